#!/usr/bin/env bash
# One scripted check of the CUDA backend on a GPU machine (about 8 minutes on one H200):
#   1. configure and build (Release, -j$(nproc)) for the GPU present (compute capability from
#      nvidia-smi; 90 when it cannot tell) only what the check runs; stops at the first build error
#   2. ctest -L gpu: every parity test (CUDA vs CPU, forward and backward, fp32 and bf16)
#   3. compute-sanitizer memcheck over the parity tests (small shapes: FTENGINE_PARITY_QUICK=1), and
#      a short racecheck of the layernorm and attention tests
#   4. the kernel benchmarks (CUDA cases), bench_train_step (CUDA cases) and, when torch with CUDA
#      is importable, bench/hf_train_step.py --device cuda for the side-by-side
#   5. one short table; every log is kept under $OUT/gpu_check (or build-gpu-check/gpu_check)
# Without a GPU it configures and builds, then reports "no GPU" and exits 0.
#
#   tools/gpu_check.sh                 # FTENGINE_GPU_BUILD=dir overrides the build directory
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
BUILD=${FTENGINE_GPU_BUILD:-$ROOT/build-gpu-check}
LOGS=${OUT:-$BUILD}/gpu_check
mkdir -p "$LOGS"
JOBS=$(nproc)
START=$(date +%s)

STEPS=()  # "name|status|seconds|note"
record() { STEPS+=("$1|$2|$3|$4"); }
elapsed() { echo $(($(date +%s) - START)); }

print_table() {
  echo
  echo "== gpu_check summary ($(elapsed) s total; logs in $LOGS)"
  printf '%-28s %-8s %6s  %s\n' step status secs note
  for row in "${STEPS[@]}"; do
    IFS='|' read -r name status secs note <<<"$row"
    printf '%-28s %-8s %6s  %s\n' "$name" "$status" "$secs" "$note"
  done
  if [ -f "$LOGS/bench_summary.txt" ]; then
    echo
    cat "$LOGS/bench_summary.txt"
  fi
}

# run NAME TIMEOUT_S CMD...: runs CMD with its output in $LOGS/NAME.log and records the result.
run() {
  local name=$1 limit=$2
  shift 2
  local t0 rc secs status=ok note=""
  t0=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" >"$LOGS/$name.log" 2>&1
  rc=$?
  secs=$(($(date +%s) - t0))
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    status=TIMEOUT
    note="stopped after ${limit}s"
  elif [ $rc -ne 0 ]; then
    status=FAIL
    note="exit $rc: $(grep -E 'FAILED|Failure|ERROR|error:|=========' "$LOGS/$name.log" | head -n 1 | cut -c1-90)"
  fi
  record "$name" "$status" "$secs" "$note"
  echo "[$(elapsed)s] $name: $status $note"
  return $rc
}

# ---- the GPU and its architecture
GPU=""
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1)
  CAP=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .')
fi
ARCH=${CAP:-90}
[[ "$ARCH" =~ ^[0-9]+$ ]] || ARCH=90
echo "gpu_check: GPU: ${GPU:-none}; building for sm_$ARCH in $BUILD"
nvidia-smi >"$LOGS/nvidia-smi.log" 2>&1 || true

# ---- configure and build
run configure 300 cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DFTENGINE_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="$ARCH" || { print_table; exit 1; }
PARITY=$(find tests -maxdepth 1 -name "parity_*.cpp" -printf "%f\n" | sed "s/\.cpp$//" | sort)
KERNEL_BENCHES="embedding layernorm gelu dropout linear pooler regression_head grad_norm adamw attention"
TARGETS="ftengine $PARITY bench_train_step"
for b in $KERNEL_BENCHES; do
  [ -f "bench/$b.cpp" ] || [ -f "bench/$b.cu" ] && TARGETS="$TARGETS bench_$b"
done
# shellcheck disable=SC2086
run build 900 cmake --build "$BUILD" -j "$JOBS" --target $TARGETS || { print_table; exit 1; }

if [ -z "$GPU" ]; then
  record gpu skipped 0 "no GPU: nothing to run (the build above is what can be checked here)"
  echo "gpu_check: no GPU on this machine; configure and build succeeded"
  print_table
  exit 0
fi

# ---- tests
run ctest_gpu 180 ctest --test-dir "$BUILD" -L gpu --output-on-failure --timeout 170 -j 4

SANITIZER=$(command -v compute-sanitizer || true)
[ -z "$SANITIZER" ] && [ -x /usr/local/cuda/bin/compute-sanitizer ] && SANITIZER=/usr/local/cuda/bin/compute-sanitizer
if [ -n "$SANITIZER" ]; then
  memcheck_all() {
    local rc=0
    for t in $PARITY; do
      # the whole-model tests run the same kernels as the op tests, at length: left to ctest
      case $t in parity_train_step | parity_determinism) continue ;; esac
      echo "=== memcheck $t"
      FTENGINE_PARITY_QUICK=1 timeout 60 "$SANITIZER" --tool memcheck --error-exitcode 99 --print-limit 20 \
        "$BUILD/tests/$t" --gtest_brief=1 || { echo "=== memcheck $t: exit $?"; rc=1; }
    done
    return "$rc"
  }
  racecheck_some() {
    local rc=0
    for t in parity_layernorm parity_attention; do
      [ -x "$BUILD/tests/$t" ] || continue
      echo "=== racecheck $t"
      FTENGINE_PARITY_QUICK=1 timeout 40 "$SANITIZER" --tool racecheck --error-exitcode 99 --print-limit 20 \
        "$BUILD/tests/$t" --gtest_brief=1 --gtest_filter='*Fp32*:*fp32*' || { echo "=== racecheck $t: exit $?"; rc=1; }
    done
    return "$rc"
  }
  export SANITIZER BUILD PARITY
  export -f memcheck_all racecheck_some
  run memcheck 150 bash -c memcheck_all
  run racecheck 60 bash -c racecheck_some
else
  record memcheck skipped 0 "compute-sanitizer not found"
fi

# ---- benchmarks
for b in $KERNEL_BENCHES; do
  [ -x "$BUILD/bench/bench_$b" ] || continue
  run "bench_$b" 45 "$BUILD/bench/bench_$b" --benchmark_filter=cuda --benchmark_min_time=0.05 \
    --benchmark_out="$LOGS/bench_$b.json" --benchmark_out_format=json
done
run bench_train_step 120 "$BUILD/bench/bench_train_step" --benchmark_filter=cuda --benchmark_min_time=0.3 \
  --benchmark_out="$LOGS/bench_train_step.json" --benchmark_out_format=json

if python3 -c 'import torch, transformers, sys; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
  hf_all() {
    python3 bench/hf_train_step.py --device cuda --configs minilm bert-base --seq 128 --batch 32 --steps 5 &&
      python3 bench/hf_train_step.py --device cuda --configs minilm bert-base --seq 512 --batch 32 --steps 5 &&
      python3 bench/hf_train_step.py --device cuda --dtype fp32 --configs bert-base --seq 128 --batch 32 --steps 5
  }
  export -f hf_all
  run hf_train_step 120 bash -c hf_all
else
  record hf_train_step skipped 0 "torch with CUDA is not importable"
fi

# ---- one table of the benchmark numbers (Google Benchmark JSON)
python3 - "$LOGS" >"$LOGS/bench_summary.txt" 2>/dev/null <<'EOF' || true
import glob, json, os, sys
rows = []
for path in sorted(glob.glob(os.path.join(sys.argv[1], "bench_*.json"))):
    try:
        data = json.load(open(path))
    except Exception:
        continue
    for b in data.get("benchmarks", []):
        if b.get("run_type") == "aggregate":
            continue
        rate = ""
        for key, unit in (("GB/s", "GB/s"), ("TFLOP/s", "TFLOP/s")):
            if key in b:
                rate = f"{b[key]:9.1f} {unit}" if key == "GB/s" else f"{b[key]:9.2f} {unit}"
        peak = f"{b['%peak']:5.1f}%" if "%peak" in b else ""
        t = b.get("real_time", 0.0)
        rows.append(f"{b['name'][:64]:64s} {t:10.1f} {b.get('time_unit', '')}  {rate:>16s} {peak:>7s}")
print("== benchmarks (time per call; achieved rate; % of the device's peak)")
print("\n".join(rows))
EOF
grep -h "hf_train_step" "$LOGS/hf_train_step.log" 2>/dev/null | sed 's/^/   /' >>"$LOGS/bench_summary.txt" || true

print_table
for row in "${STEPS[@]}"; do
  case "$row" in *"|FAIL|"* | *"|TIMEOUT|"*) exit 1 ;; esac
done
exit 0
