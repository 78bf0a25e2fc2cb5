#!/usr/bin/env bash
# Installs what ftengine needs to build and test, from Debian's packages and the CUDA toolkit only,
# and fetches the small pretrained BERT (MiniLM-L6-H384-uncased) that the demo and some tests use.
# Idempotent: a second run installs nothing and downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake g++ make pkg-config python3 python3-pip unzip
          libutf8proc-dev nlohmann-json3-dev libcli11-dev libzip-dev libopenblas-dev libopenblas-openmp-dev
          libgtest-dev libgmock-dev libbenchmark-dev clang-14 libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install_deps: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ ! -x /usr/local/cuda/bin/nvcc ]] && ! command -v nvcc >/dev/null; then
  echo "install_deps: no CUDA toolkit found; ftengine builds its CPU backend only"
fi

bash tools/fetch_minilm.sh
