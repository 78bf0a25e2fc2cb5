#!/usr/bin/env bash
# The CPU training step side by side with PyTorch + HF on this machine, in one run (docs/performance.md,
# "One thread pool"): per config, two rounds of ftengine on the OpenMP build of OpenBLAS (the build's
# default), PyTorch (5 steps after 1 warm-up) and ftengine on Debian's pthreads OpenBLAS (the same
# binary with LD_LIBRARY_PATH overriding its RUNPATH); then PyTorch's 10-step run of both configs.
# Needs a Release build in build/ (bench_train_step) and a Python with torch and transformers:
#   PYTHON=/path/to/venv/bin/python bench/cpu_side_by_side.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
pthreads_blas=${PTHREADS_BLAS_DIR:-/usr/lib/x86_64-linux-gnu/openblas-pthread}
bench=build/bench/bench_train_step
uptime
for cfg in minilm bert-base; do
  for round in 1 2; do
    "$bench" --benchmark_filter="$cfg/" --benchmark_min_time=4 2>&1 | grep '^train_step' | sed "s/^/openmp-blas r$round: /"
    "$python" bench/hf_train_step.py --threads 2 --configs "$cfg" --steps 5 --warmup 1 2>&1 | tail -1 | sed "s/^/pytorch r$round: /"
    LD_LIBRARY_PATH=$pthreads_blas "$bench" --benchmark_filter="$cfg/" --benchmark_min_time=4 2>&1 | grep '^train_step' |
      sed "s/^/pthread-blas r$round: /"
  done
done
"$python" bench/hf_train_step.py --threads 2 --configs minilm bert-base --steps 10 --warmup 3 2>&1 | tail -2
uptime
