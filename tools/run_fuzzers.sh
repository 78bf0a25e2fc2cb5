#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/) and runs each for a bounded time, starting
# from its committed corpus in tests/fuzz/corpus/<target>/. Any crash fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
clangxx=$(command -v clang++-14 || command -v clang++ || true)
clangc=$(command -v clang-14 || command -v clang || true)
if [[ -z $clangxx ]]; then
  echo "run_fuzzers: clang not found; install it with tools/install_deps.sh" >&2
  exit 1
fi
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFTENGINE_CUDA=OFF -DFTENGINE_TESTS=OFF \
  -DFTENGINE_BENCH=OFF -DFTENGINE_FUZZ=ON -DCMAKE_CXX_COMPILER="$clangxx" -DCMAKE_C_COMPILER="$clangc" >/dev/null
cmake --build build-fuzz -j "$(nproc)" >/dev/null
shopt -s nullglob
targets=(build-fuzz/tests/fuzz/fuzz_*)
if ((${#targets[@]} == 0)); then
  echo "run_fuzzers: no fuzz targets built" >&2
  exit 1
fi
for t in "${targets[@]}"; do
  name=$(basename "$t")
  corpus=tests/fuzz/corpus/${name#fuzz_}
  work=$(mktemp -d)
  echo "run_fuzzers: $name for ${seconds}s"
  "$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
    "$work" "$corpus" >"$work.log" 2>&1 || { cat "$work.log"; echo "run_fuzzers: $name FAILED"; exit 1; }
  tail -n 1 "$work.log"
  rm -rf "$work" "$work.log"
done
echo "run_fuzzers: ${#targets[@]} fuzz targets ran ${seconds}s each without a crash"
