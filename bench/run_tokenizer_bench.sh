#!/usr/bin/env bash
# ftengine's tokenizer next to Hugging Face `tokenizers` on the same texts, in one run, as one table.
#   bash bench/run_tokenizer_bench.sh [build-dir]       (default build/; needs bench_tokenizer built)
# ftengine: bench_tokenizer (Google Benchmark). HF: bench/tokenizer_hf.py (BertWordPieceTokenizer),
# once with RAYON_NUM_THREADS=1 (single and batch) and once with every core (batch).
# One-thread rows compare CPU time (both sides), all-core rows wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin=$build/bench/bench_tokenizer
if [[ ! -x $bin ]]; then
  echo "run_tokenizer_bench: $bin not found; build it: cmake --build $build --target bench_tokenizer" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "run_tokenizer_bench: ftengine ($bin)" >&2
"$bin" --benchmark_filter='BM_Encode' --benchmark_min_time=1 --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=false --benchmark_out="$tmp/ft.json" --benchmark_out_format=json >/dev/null
echo "run_tokenizer_bench: HF tokenizers, one thread" >&2
RAYON_NUM_THREADS=1 python3 bench/tokenizer_hf.py --json --repeats 3 --min-time 1 >"$tmp/hf1.jsonl"
echo "run_tokenizer_bench: HF tokenizers, all cores" >&2
python3 bench/tokenizer_hf.py --json --repeats 3 --min-time 1 --modes batch >"$tmp/hfall.jsonl"
python3 - "$tmp" <<'EOF'
import json, os, sys, platform
tmp = sys.argv[1]
ft = json.load(open(f"{tmp}/ft.json"))
# Best of the repetitions per benchmark (as the HF side reports its best run).
best = {}
for b in ft["benchmarks"]:
    if b.get("run_type") != "iteration":
        continue
    name = b["run_name"] if "run_name" in b else b["name"]
    if name not in best or b["bytes_per_second"] > best[name]["bytes_per_second"]:
        best[name] = b
def ft_row(prefix, data, vocab, suffix=""):
    for name, b in best.items():
        if name.startswith(f"{prefix}/{data}_{vocab}{suffix}"):
            return b["bytes_per_second"] / 1e6, b["items_per_second"]
    return None
hf1 = [json.loads(l) for l in open(f"{tmp}/hf1.jsonl")]
hfall = [json.loads(l) for l in open(f"{tmp}/hfall.jsonl")]
def hf_row(rows, mode, data, vocab, clock):
    for r in rows:
        if r["mode"] == mode and r["data"] == data and r["vocab"] == vocab:
            s = r[f"{clock}_seconds"]
            return r["bytes"] / s / 1e6, r["texts"] / s, r["threads"]
    return None
cores = os.cpu_count()
print(f"machine: {platform.processor() or platform.machine()}, {cores} cores; load average at the end: "
      f"{os.getloadavg()[0]:.2f}")
print()
print("| texts | vocab | setting | ftengine MB/s | ftengine texts/s | HF tokenizers MB/s | HF texts/s | ratio |")
print("|---|---|---|---:|---:|---:|---:|---:|")
for data in ("headlines", "digests"):
    for vocab in ("uncased", "cased"):
        rows = [
            ("1 thread, one text at a time (CPU time)", ft_row("BM_Encode", data, vocab),
             hf_row(hf1, "single", data, vocab, "cpu")),
            ("1 thread, batch (CPU time)", ft_row("BM_EncodeBatch", data, vocab, "/1"),
             hf_row(hf1, "batch", data, vocab, "cpu")),
            (f"all {cores} cores, batch (wall time)", ft_row("BM_EncodeBatch", data, vocab, "/0"),
             hf_row(hfall, "batch", data, vocab, "wall")),
        ]
        for setting, f, h in rows:
            if not f or not h:
                continue
            print(f"| {data} | {vocab} | {setting} | {f[0]:.1f} | {f[1]:,.0f} | {h[0]:.2f} | {h[1]:,.0f} | "
                  f"{f[0] / h[0]:.1f}x |")
EOF
