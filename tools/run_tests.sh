#!/usr/bin/env bash
# Builds ftengine and runs the whole test suite: every GoogleTest case through ctest (GPU-labelled
# tests skip without a GPU), the CPU tests again under other OpenBLAS kernels and one thread
# (tools/run_kernel_variant_pass.sh), then each fuzz target for a bounded time on its committed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
bash tools/run_kernel_variant_pass.sh
bash tools/run_fuzzers.sh "${FTENGINE_FUZZ_SECONDS:-30}"
