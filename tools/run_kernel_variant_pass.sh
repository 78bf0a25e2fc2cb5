#!/usr/bin/env bash
# A second pass of the CPU tests under other OpenBLAS kernels and another thread count, so that a
# result the tests call bitwise-equal is seen to be so by construction, not by this machine's GEMM
# kernels happening to agree (docs/performance.md, "Determinism"). The first pass (run_tests.sh) uses
# the kernels OpenBLAS picks for this CPU with all cores; this one forces a kernel set this CPU can
# execute but would not pick (SkylakeX -> Haswell, Haswell -> Zen, Zen -> Haswell) and one thread
# for OpenBLAS and OpenMP. Usage: tools/run_kernel_variant_pass.sh [CORETYPE] (default: chosen here).
set -euo pipefail
cd "$(dirname "$0")/.."
core=${1:-}
if [[ -z $core ]]; then
  flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
  vendor=$(grep -m1 '^vendor_id' /proc/cpuinfo || true)
  if [[ $flags == *" avx512f "* ]]; then core=Haswell       # OpenBLAS picks SkylakeX/Cooperlake here
  elif [[ $flags == *" avx2 "* && $vendor == *AMD* ]]; then core=Haswell  # it picks Zen
  elif [[ $flags == *" avx2 "* ]]; then core=Zen           # it picks Haswell
  else core=Prescott                                       # no AVX2: the generic kernels
  fi
fi
echo "run_kernel_variant_pass: CPU tests with OPENBLAS_CORETYPE=$core, 1 thread"
OPENBLAS_CORETYPE=$core OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
  ctest --test-dir build -L cpu --output-on-failure -j "$(nproc)"
