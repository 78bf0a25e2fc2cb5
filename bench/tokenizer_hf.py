#!/usr/bin/env python3
"""Hugging Face `tokenizers` on the texts of bench/tokenizer.cpp, for the side-by-side table.

The same inputs (UCDP Syria headlines and daily digests from ../shared/data/ucdp/, bert-base
vocabularies from ../shared/data/vocab/), the same work (full encodings with [CLS]/[SEP], no
truncation), timed three ways with tokenizers' BertWordPieceTokenizer (the Rust fast tokenizer):
  single  encode() one text after another (one thread)
  batch   encode_batch() over the whole file, on the threads RAYON_NUM_THREADS allows
Rayon fixes its pool size when first used, so run this once per thread count:
    RAYON_NUM_THREADS=1 python3 bench/tokenizer_hf.py --json
Prints one JSON object per measurement (with --json) or a readable line. Each measurement is the
best of --repeats runs, in wall-clock seconds and in CPU seconds of the process (on one thread the
CPU time is what Google Benchmark reports for bench_tokenizer's one-thread rows, and it is
robust against other processes sharing the machine).
"""
import argparse
import csv
import json
import os
import pathlib
import time

from tokenizers import BertWordPieceTokenizer

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = pathlib.Path(os.environ.get("FTENGINE_SHARED_DATA", ROOT.parent / "shared" / "data"))
DATA = {"headlines": ("ged_syria_2016_2019.csv", "source_headline"), "digests": ("ged_syria_daily_digest.csv", "text")}


def read_column(path, column):
    with open(path, newline="", encoding="utf-8") as f:
        return [row[column] for row in csv.DictReader(f)]


def best_seconds(fn, repeats, min_time):
    """(wall, cpu) seconds per call, each the best of `repeats` runs of at least min_time."""
    best_wall = best_cpu = float("inf")
    for _ in range(repeats):
        runs, start, cpu_start = 0, time.perf_counter(), time.process_time()
        while True:
            fn()
            runs += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        best_wall = min(best_wall, elapsed / runs)
        best_cpu = min(best_cpu, (time.process_time() - cpu_start) / runs)
    return best_wall, best_cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds per repeat")
    parser.add_argument("--modes", default="single,batch")
    args = parser.parse_args()
    threads = int(os.environ.get("RAYON_NUM_THREADS", "0")) or os.cpu_count()
    for kind in ("uncased", "cased"):
        tok = BertWordPieceTokenizer(str(SHARED / "vocab" / f"bert-base-{kind}-vocab.txt"), lowercase=kind == "uncased")
        for name, (file, column) in DATA.items():
            texts = read_column(SHARED / "ucdp" / file, column)
            nbytes = sum(len(t.encode("utf-8")) for t in texts)
            for mode in args.modes.split(","):
                if mode == "single":
                    fn = lambda: [tok.encode(t) for t in texts]  # noqa: E731
                else:
                    fn = lambda: tok.encode_batch(texts)  # noqa: E731
                wall, cpu = best_seconds(fn, args.repeats, args.min_time)
                row = {"impl": "hf-tokenizers", "mode": mode, "data": name, "vocab": kind,
                       "threads": 1 if mode == "single" else threads, "texts": len(texts), "bytes": nbytes,
                       "wall_seconds": wall, "cpu_seconds": cpu}
                if args.json:
                    print(json.dumps(row), flush=True)
                else:
                    print(f"{row['impl']} {mode:6s} {name:9s} {kind:7s} threads={row['threads']:2d} "
                          f"wall {nbytes / wall / 1e6:8.2f} MB/s {len(texts) / wall:10.0f} texts/s   "
                          f"cpu {nbytes / cpu / 1e6:8.2f} MB/s {len(texts) / cpu:10.0f} texts/s", flush=True)


if __name__ == "__main__":
    main()
