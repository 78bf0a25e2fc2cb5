#!/usr/bin/env bash
# Configures and builds ftengine in build/ (Release). The CUDA backend is built when nvcc is found
# (sm_80 and sm_90 by default; FTENGINE_CUDA=OFF skips it). Extra arguments go to cmake configure.
set -euo pipefail
cd "$(dirname "$0")/.."
cuda=${FTENGINE_CUDA:-AUTO}
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DFTENGINE_CUDA="$cuda" "$@" >/dev/null
cmake --build build -j "$(nproc)"
