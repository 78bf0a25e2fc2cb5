#!/usr/bin/env bash
# Prepares, here, everything the GPU check (tools/gpu_check.sh) needs on a GPU machine that has no
# network and none of this project's Debian libraries, in the ignored folder .gpu/:
#   .gpu/debs/   the Debian packages the build needs and such an image lacks: the dependency closure
#                of the -dev packages below (apt-cache depends, recursive) less the closure of what
#                the image is taken to have (g++, cmake, ninja-build, python3; no -dev library);
#   .gpu/data/   the UCDP daily digest and the BERT vocabulary from ../shared/data (what the GPU
#                run and the data-reading tests use);
#   .gpu/minilm/ MiniLM-L6 for the GPU run on the digest, in BF16 and compressed (below), so that
#                it travels; the loader widens the weights back to F32 (docs/gpu.md says what that
#                costs).
# Idempotent: what is there and complete is kept. Prints the total size and the folders to carry.
#   tools/gpu_bundle.sh     # uses build/ftengine, or builds the binary alone (CPU only) in build-bundle/
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
GPU=$ROOT/.gpu
mkdir -p "$GPU/debs" "$GPU/data/ucdp" "$GPU/data/vocab" "$GPU/minilm"

# What the build links against (tools/install_deps.sh installs the same for this machine).
NEEDED=(libutf8proc-dev libzip-dev libopenblas-pthread-dev nlohmann-json3-dev libcli11-dev libgtest-dev
        libbenchmark-dev pkgconf)
# What the GPU image has (docs/gpu.md; tools/gpu_rehearse.sh builds a root file system of exactly this).
IMAGE_HAS=(g++ cmake ninja-build python3)

closure() {
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
    --no-enhances "$@" 2>/dev/null | grep -v '^ ' | grep -v '^<' | sort -u
}
if ! apt-cache show libutf8proc-dev >/dev/null 2>&1; then
  echo "gpu_bundle: updating apt's package lists"
  apt-get update -qq
fi
mapfile -t want < <(comm -23 <(closure "${NEEDED[@]}") <(closure "${IMAGE_HAS[@]}"))
echo "gpu_bundle: ${#want[@]} packages: ${want[*]}"
missing=()
for p in "${want[@]}"; do
  compgen -G "$GPU/debs/${p}_*.deb" >/dev/null || missing+=("$p")
done
if ((${#missing[@]})); then
  (cd "$GPU/debs" && apt-get download -q "${missing[@]}")
fi
# A package list for gpu_check.sh and the record of what was chosen.
printf '%s\n' "${want[@]}" >"$GPU/debs/PACKAGES"

# Data the GPU run reads.
SHARED=${FTENGINE_SHARED_DATA:-$ROOT/../shared/data}
for f in ucdp/ged_syria_daily_digest.csv vocab/bert-base-uncased-vocab.txt; do
  if [[ -f $SHARED/$f ]]; then
    cmp -s "$SHARED/$f" "$GPU/data/$f" || cp "$SHARED/$f" "$GPU/data/$f"
  else
    echo "gpu_bundle: warning: $SHARED/$f is absent; the GPU run that needs it will skip" >&2
  fi
done

# MiniLM for the GPU run on the digest: BF16 (half of F32; the loader widens it back), the
# word-embedding rows of pieces that never occur in the digest zeroed (tools/gpu_minilm_subset.py:
# the run computes exactly what it would with them), xz-compressed. About 20 MiB instead of 87.
MINILM=${FTENGINE_MINILM_DIR:-$ROOT/weights/minilm-l6}
DIGEST=$GPU/data/ucdp/ged_syria_daily_digest.csv
if [[ ! -f $GPU/minilm/model.safetensors.xz || $MINILM/model.safetensors -nt $GPU/minilm/model.safetensors.xz ]]; then
  [[ -f $MINILM/model.safetensors ]] || { echo "gpu_bundle: no MiniLM in $MINILM; run tools/fetch_minilm.sh" >&2; exit 1; }
  [[ -f $DIGEST ]] || { echo "gpu_bundle: the digest is needed to choose MiniLM's rows" >&2; exit 1; }
  FTENGINE=build/ftengine
  if [[ ! -x $FTENGINE ]]; then  # a CPU-only build of the binary alone is enough to convert and tokenize
    cmake -S . -B build-bundle -DCMAKE_BUILD_TYPE=Release -DFTENGINE_CUDA=OFF -DFTENGINE_TESTS=OFF \
      -DFTENGINE_BENCH=OFF >/dev/null
    cmake --build build-bundle --target ftengine -j "$(nproc)" >/dev/null
    FTENGINE=build-bundle/ftengine
  fi
  work=$(mktemp -d)
  "$FTENGINE" convert --dtype BF16 "$MINILM/model.safetensors" "$work/bf16.safetensors"
  python3 -c 'import csv, sys
csv.field_size_limit(1 << 30)
for row in csv.DictReader(open(sys.argv[1], newline="")): print(" ".join(row["text"].split()))' "$DIGEST" |
    "$FTENGINE" tokenize --model "$MINILM" >"$work/ids.txt"
  python3 tools/gpu_minilm_subset.py "$work/bf16.safetensors" "$work/ids.txt" "$work/model.safetensors"
  xz -T "$(nproc)" -6 -c "$work/model.safetensors" >"$work/model.safetensors.xz"
  mv "$work/model.safetensors.xz" "$GPU/minilm/model.safetensors.xz"
  rm -rf "$work" "$GPU/minilm/model.safetensors"
fi
for f in config.json vocab.txt tokenizer.json tokenizer_config.json special_tokens_map.json; do
  if [[ -f $MINILM/$f ]]; then cmp -s "$MINILM/$f" "$GPU/minilm/$f" || cp "$MINILM/$f" "$GPU/minilm/$f"; fi
done

echo "gpu_bundle: .gpu/ holds:"
du -sh "$GPU/debs" "$GPU/data" "$GPU/minilm" | sed 's/^/  /'
total=$(du -sb "$GPU" | cut -f1)
tree=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -n 1 | cut -f1)
printf 'gpu_bundle: %.1f MiB in .gpu/, %.1f MiB of tracked files: %.1f MiB travel (limit 64 MiB)\n' \
  "$(echo "$total / 1048576" | bc -l)" "$(echo "$tree / 1048576" | bc -l)" "$(echo "($total + $tree) / 1048576" | bc -l)"
echo "gpu_bundle: carry [\".gpu\"]; run: bash tools/gpu_check.sh 1, then bash tools/gpu_check.sh 2 (docs/gpu.md)"
if ((total > 40 * 1048576)); then
  echo "gpu_bundle: error: .gpu/ is over 40 MiB" >&2
  exit 1
fi
