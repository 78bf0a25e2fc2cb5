#!/usr/bin/env python3
"""Shrinks a BF16/F16 MiniLM safetensors file for travel: zeroes the rows of the word-embedding
matrix whose word pieces never occur in the given token ids, so that the file compresses, and
keeps every shape, name and other value. A model so reduced computes exactly what the full one
computes on texts made of those word pieces (the zeroed rows are never read, and get no gradient).
Standard library only.

    python3 tools/gpu_minilm_subset.py IN.safetensors USED_IDS.txt OUT.safetensors
USED_IDS.txt: whitespace-separated token ids (ftengine tokenize's output).
"""
import json
import struct
import sys

NAMES = ("embeddings.word_embeddings.weight", "bert.embeddings.word_embeddings.weight")
SIZES = {"BF16": 2, "F16": 2, "F32": 4}


def main(src: str, ids_file: str, dst: str) -> None:
    data = bytearray(open(src, "rb").read())
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    name = next(k for k in NAMES if k in header)
    info = header[name]
    rows, cols = info["shape"]
    size = SIZES[info["dtype"]]
    begin = 8 + n + info["data_offsets"][0]
    used = {int(t) for t in open(ids_file).read().split()}
    used.update(range(0, 104))  # [PAD], [unused*], [UNK], [CLS], [SEP], [MASK]: BERT's specials
    row_bytes = cols * size
    zeroed = 0
    for r in range(rows):
        if r not in used:
            data[begin + r * row_bytes : begin + (r + 1) * row_bytes] = bytes(row_bytes)
            zeroed += 1
    open(dst, "wb").write(data)
    print(f"{dst}: {rows - zeroed} of {rows} word-embedding rows kept ({zeroed} never-used rows zeroed)")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
