#!/usr/bin/env bash
# The check of the CUDA backend on a GPU machine, in two stages that each fit one command of the
# device tool (docs/gpu.md). Works on a bare machine without network: the Debian libraries the build
# needs come from .gpu/debs (tools/gpu_bundle.sh), unpacked into a private prefix, never over /.
#
#   bash tools/gpu_check.sh 1   # <= 5 min: pre-flight, deps, configure, build; every gpu-labelled
#                               #   test; compute-sanitizer memcheck (attention, layernorm, embedding,
#                               #   quick shapes) and racecheck (attention, fp32 and bf16)
#   bash tools/gpu_check.sh 2   # <= 3.5 min: kernel benchmarks (fp32, bf16); the BERT-base and MiniLM
#                               #   train step at T = 128 and 512 beside HF transformers on the same
#                               #   GPU; ftengine train --device cuda on the digest (MiniLM, maxlen,
#                               #   fp32 then bf16) with wall time and test R^2
#
# Every step has its own timeout; a failed or timed-out step is reported and the next one runs.
# Results go to $OUT (the device tool's folder; else build-gpu-check/out): summary.txt,
# summary.json and logs.tar.gz. FTENGINE_GPU_BUILD overrides the build directory. Without a GPU
# (tools/gpu_rehearse.sh), the steps that need one are reported as skipped, and the stage still
# fails only on a real failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export ROOT=$PWD
STAGE=${1:-}
[[ $STAGE == 1 || $STAGE == 2 ]] || { echo "usage: tools/gpu_check.sh 1|2" >&2; exit 2; }
BUILD=${FTENGINE_GPU_BUILD:-$ROOT/build-gpu-check}
RESULTS=${OUT:-$BUILD/out}
LOGS=$BUILD/logs-stage$STAGE
mkdir -p "$LOGS" "$RESULTS"
JOBS=$(nproc)
START=$(date +%s)
STEPS=()  # "name|status|seconds|note"

elapsed() { echo $(($(date +%s) - START)); }
record() {
  STEPS+=("$1|$2|$3|$4")
  echo "[$(elapsed)s] $1: $2${4:+ ($4)}"
}

# step NAME TIMEOUT_S CMD...: CMD's output goes to $LOGS/NAME.log; the result is recorded.
step() {
  local name=$1 limit=$2
  shift 2
  local t0 rc secs status=ok note=""
  t0=$(date +%s)
  # timeout runs programs, not shell functions: a function (exported) runs in a child bash
  if declare -F "$1" >/dev/null; then
    export -f "$1"
    timeout --kill-after=5 "$limit" bash -c '"$@"' bash "$@" >"$LOGS/$name.log" 2>&1
  else
    timeout --kill-after=5 "$limit" "$@" >"$LOGS/$name.log" 2>&1
  fi
  rc=$?
  secs=$(($(date +%s) - t0))
  if ((rc == 124 || rc == 137)); then
    status=TIMEOUT note="stopped after ${limit}s"
  elif ((rc != 0)); then
    status=FAIL
    note="exit $rc: $(grep -m1 -E 'FAILED|Failure|ERROR|[Ee]rror:|No such' "$LOGS/$name.log" | cut -c1-100)"
  fi
  record "$name" "$status" "$secs" "$note"
  return $rc
}

finish() {
  {
    echo "== gpu_check stage $STAGE: $(elapsed) s; GPU: ${GPU_NAME:-none}; driver ${DRIVER:-none}"
    printf '%-30s %-8s %6s  %s\n' step status secs note
    for row in "${STEPS[@]}"; do
      IFS='|' read -r name status secs note <<<"$row"
      printf '%-30s %-8s %6s  %s\n' "$name" "$status" "$secs" "$note"
    done
    [[ -f $LOGS/numbers.txt ]] && { echo; cat "$LOGS/numbers.txt"; }
  } | tee "$RESULTS/summary-stage$STAGE.txt"
  python3 - "$STAGE" "${GPU_NAME:-}" "${DRIVER:-}" "$LOGS" "${STEPS[@]}" >"$RESULTS/summary-stage$STAGE.json" <<'EOF' || true
import json, os, sys
stage, gpu, driver, logs, rows = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
steps = [dict(zip(("name", "status", "seconds", "note"), r.split("|", 3))) for r in rows]
numbers = {}
path = os.path.join(logs, "numbers.json")
if os.path.exists(path):
    numbers = json.load(open(path))
print(json.dumps({"stage": int(stage), "gpu": gpu, "driver": driver, "steps": steps, **numbers}, indent=1))
EOF
  tar -czf "$RESULTS/logs-stage$STAGE.tar.gz" -C "$BUILD" "logs-stage$STAGE" 2>/dev/null || true
  for row in "${STEPS[@]}"; do
    case "$row" in *"|FAIL|"* | *"|TIMEOUT|"*) exit 1 ;; esac
  done
  exit 0
}

# ---- pre-flight: what this machine has (a few seconds)
GPU_NAME="" DRIVER="" CAP=""
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1)
  DRIVER=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -n 1)
  CAP=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .')
fi
ARCH=${CAP:-90}
[[ $ARCH =~ ^[0-9]+$ ]] || ARCH=90
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
preflight() {
  echo "gpu: ${GPU_NAME:-none} (sm_$ARCH), driver ${DRIVER:-none}; $(nproc) cores"
  for tool in g++ cmake ninja make pkg-config dpkg-deb ar python3 "$NVCC" compute-sanitizer; do
    printf '%-18s ' "$tool"
    if command -v "$tool" >/dev/null 2>&1; then
      "$tool" --version 2>&1 | head -n 1
    else
      echo "not found"
    fi
  done
  python3 -c 'import torch, transformers; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), "transformers", transformers.__version__)' 2>&1 | tail -n 1
}
preflight | tee "$LOGS/preflight.log"
record preflight ok "$(elapsed)" ""

# ---- the libraries: installed ones, else .gpu/debs unpacked into a private prefix
have_system_deps() {
  command -v pkg-config >/dev/null && pkg-config --exists libutf8proc libzip openblas 2>/dev/null &&
    [[ -f /usr/include/nlohmann/json.hpp && -f /usr/include/CLI/CLI.hpp && -d /usr/include/gtest &&
       -d /usr/include/benchmark ]]
}
unpack_deps() {
  local prefix=$1 deb
  shopt -s nullglob
  local debs=("$ROOT"/.gpu/debs/*.deb)
  ((${#debs[@]})) || { echo "no .gpu/debs/*.deb: run tools/gpu_bundle.sh where there is network"; return 1; }
  rm -rf "$prefix" && mkdir -p "$prefix"
  for deb in "${debs[@]}"; do
    if command -v dpkg-deb >/dev/null; then
      dpkg-deb -x "$deb" "$prefix" || return 1
    else  # a .deb is an ar archive holding data.tar.*
      (cd "$prefix" && ar p "$deb" "$(ar t "$deb" | grep '^data.tar')" | tar -x -f - -a 2>/dev/null ||
        ar p "$deb" "$(ar t "$deb" | grep '^data.tar')" | tar -xJ -f -) || return 1
    fi
    echo "unpacked $(basename "$deb")"
  done
  # update-alternatives is what makes these links on an installed system; dpkg-deb -x does not.
  local lib=$prefix/usr/lib/x86_64-linux-gnu
  mkdir -p "$lib/pkgconfig"
  ln -sf ../openblas-pthread/pkgconfig/openblas.pc "$lib/pkgconfig/openblas.pc"
  ln -sf openblas-pthread/libopenblas.so.0 "$lib/libopenblas.so.0"
  ln -sf openblas-pthread/libopenblas.so "$lib/libopenblas.so"
  [[ -e $prefix/usr/bin/pkg-config ]] || ln -sf pkgconf "$prefix/usr/bin/pkg-config"
}
DEPS=$BUILD/deps
CMAKE_DEPS=()
if have_system_deps; then
  record deps ok 0 "installed packages"
else
  step deps 60 unpack_deps "$DEPS" || finish
  export PKG_CONFIG_SYSROOT_DIR=$DEPS
  export PKG_CONFIG_LIBDIR=$DEPS/usr/lib/x86_64-linux-gnu/pkgconfig:$DEPS/usr/share/pkgconfig
  export LD_LIBRARY_PATH=$DEPS/usr/lib/x86_64-linux-gnu:$DEPS/usr/lib/x86_64-linux-gnu/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export PATH=$PATH:$DEPS/usr/bin
  CMAKE_DEPS=(-DCMAKE_PREFIX_PATH="$DEPS/usr" -DPKG_CONFIG_EXECUTABLE="$DEPS/usr/bin/pkgconf")
fi

# Tests and benchmarks that read the shared data find the bundle's copy (tests/support/test_data.h).
if [[ -z ${FTENGINE_SHARED_DATA:-} && ! -d $ROOT/../shared/data && -d $ROOT/.gpu/data ]]; then
  export FTENGINE_SHARED_DATA=$ROOT/.gpu/data
fi

# ---- configure, and build only what this stage runs
GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)
[[ -f $BUILD/CMakeCache.txt ]] && GEN=()  # keep the generator of an existing build
step configure 120 cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DFTENGINE_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DCMAKE_CUDA_COMPILER="$NVCC" "${CMAKE_DEPS[@]}" || finish
PARITY=$(find tests -maxdepth 1 -name 'parity_*.cpp' -printf '%f\n' | sed 's/\.cpp$//' | sort | tr '\n' ' ')
KERNEL_BENCHES="embedding layernorm gelu dropout linear pooler regression_head grad_norm adamw attention"
if [[ $STAGE == 1 ]]; then
  TARGETS=$PARITY
else
  TARGETS="ftengine bench_train_step"
  for b in $KERNEL_BENCHES; do TARGETS="$TARGETS bench_$b"; done
fi
# shellcheck disable=SC2086
step build 240 cmake --build "$BUILD" -j "$JOBS" --target $TARGETS || finish
# Every shared library a built binary needs is found (the bundle's among them).
for t in $PARITY ftengine; do
  bin=$BUILD/tests/$t
  [[ $t == ftengine ]] && bin=$BUILD/ftengine
  [[ -x $bin ]] || continue
  ldd "$bin" >"$LOGS/ldd.log" 2>&1
  if grep -q "not found" "$LOGS/ldd.log"; then
    record ldd FAIL 0 "$(basename "$bin"): $(grep -m1 'not found' "$LOGS/ldd.log" | xargs)"
  else
    record ldd ok 0 "$(basename "$bin"): $(grep -c '=>' "$LOGS/ldd.log") libraries, all found"
  fi
  break
done
SANITIZER=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)

if [[ $STAGE == 1 ]]; then
  # Without a GPU the tests skip, which still shows that they load and start.
  step ctest_gpu 120 ctest --test-dir "$BUILD" -L gpu --output-on-failure --timeout 110 -j 4
  if [[ -z $GPU_NAME ]]; then
    record sanitizer skipped 0 "no GPU here"
  elif [[ -x $SANITIZER ]]; then
    for t in parity_attention parity_layernorm parity_embedding; do
      FTENGINE_PARITY_QUICK=1 step "memcheck_${t#parity_}" 45 "$SANITIZER" --tool memcheck --error-exitcode 99 \
        --print-limit 20 "$BUILD/tests/$t" --gtest_brief=1
    done
    for p in Fp32 Bf16; do
      FTENGINE_PARITY_QUICK=1 step "racecheck_attention_${p,,}" 45 "$SANITIZER" --tool racecheck --error-exitcode 99 \
        --print-limit 20 "$BUILD/tests/parity_attention" --gtest_brief=1 --gtest_filter="*${p}*"
    done
  else
    record sanitizer skipped 0 "compute-sanitizer not found"
  fi
  finish
fi

# ---- stage 2: speed, beside HF on the same GPU, and one real run
if [[ -z $GPU_NAME ]]; then
  record gpu skipped 0 "no GPU here: configure and build are what could be checked"
  finish
fi
for b in $KERNEL_BENCHES; do
  step "bench_$b" 25 "$BUILD/bench/bench_$b" --benchmark_filter=cuda --benchmark_min_time=0.05 \
    --benchmark_out="$LOGS/bench_$b.json" --benchmark_out_format=json
done
step bench_train_step 45 "$BUILD/bench/bench_train_step" --benchmark_filter='cuda.*T(128|512)' \
  --benchmark_min_time=0.2 --benchmark_out="$LOGS/bench_train_step.json" --benchmark_out_format=json
if python3 -c 'import torch, transformers, sys; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
  hf_all() {
    for seq in 128 512; do
      python3 bench/hf_train_step.py --device cuda --configs minilm bert-base --seq "$seq" --batch 32 --steps 5 || return 1
      python3 bench/hf_train_step.py --device cuda --dtype fp32 --configs minilm bert-base --seq "$seq" --batch 32 \
        --steps 5 || return 1
    done
  }
  step hf_train_step 50 hf_all
else
  record hf_train_step skipped 0 "torch with CUDA is not importable"
fi
# The real run: MiniLM from the bundle (BF16 weights widened to F32), the paper's maxlen preset.
MODEL=$BUILD/minilm
if [[ -f .gpu/minilm/model.safetensors.xz && -f .gpu/data/ucdp/ged_syria_daily_digest.csv ]]; then
  mkdir -p "$MODEL"
  cp .gpu/minilm/*.json .gpu/minilm/vocab.txt "$MODEL/"
  [[ -f $MODEL/model.safetensors ]] || python3 -c 'import lzma, shutil, sys
shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' .gpu/minilm/model.safetensors.xz "$MODEL/model.safetensors"
  for precision in fp32 bf16; do
    step "train_digest_$precision" 75 "$BUILD/ftengine" train --model "$MODEL" \
      --data .gpu/data/ucdp/ged_syria_daily_digest.csv --split-column split --text-column text \
      --target-column ln_deaths --preset maxlen --device cuda --precision "$precision" --progress plain \
      --overwrite --output-dir "$BUILD/runs/digest_$precision"
  done
else
  record train_digest skipped 0 ".gpu/minilm or .gpu/data missing: run tools/gpu_bundle.sh"
fi

# ---- the numbers: every kernel's rate and % of peak, tokens/s and MFU, HF's, the real runs
python3 - "$LOGS" "$BUILD/runs" >"$LOGS/numbers.txt" 2>"$LOGS/numbers.err" <<'EOF' || true
import glob, json, os, re, sys
logs, runs = sys.argv[1], sys.argv[2]
out = {"kernels": [], "train_step": [], "hf": [], "runs": {}}
for path in sorted(glob.glob(os.path.join(logs, "bench_*.json"))):
    try:
        data = json.load(open(path))
    except Exception:
        continue
    for b in data.get("benchmarks", []):
        if b.get("run_type") == "aggregate":
            continue
        row = {k: b[k] for k in ("name", "real_time", "time_unit", "GB/s", "TFLOP/s", "%peak", "tokens_per_s", "MFU",
                                 "peak_GiB") if k in b}
        (out["train_step"] if "train_step" in path else out["kernels"]).append(row)
for line in open(os.path.join(logs, "hf_train_step.log")) if os.path.exists(os.path.join(logs, "hf_train_step.log")) else []:
    if "tokens/s" in line:
        out["hf"].append(line.strip())
for precision in ("fp32", "bf16"):
    m = os.path.join(runs, "digest_" + precision, "metrics.json")
    if os.path.exists(m):
        j = json.load(open(m))
        out["runs"][precision] = {"train_seconds": j.get("train_seconds"), "test_r2": j.get("test", {}).get("r2"),
                                  "test_mse": j.get("test", {}).get("mse")}
json.dump(out, open(os.path.join(logs, "numbers.json"), "w"), indent=1)
print("== kernels (time per call; achieved rate; % of the device's peak)")
for r in out["kernels"]:
    rate = f"{r['GB/s']:9.1f} GB/s" if "GB/s" in r else f"{r.get('TFLOP/s', 0):9.2f} TFLOP/s"
    print(f"{r['name'][:70]:70s} {r['real_time']:10.1f} {r.get('time_unit', '')} {rate:>16s} {r.get('%peak', 0):6.1f}%")
print("== train step (ftengine)")
for r in out["train_step"]:
    print(f"{r['name'][:70]:70s} {r.get('tokens_per_s', 0):12.0f} tok/s  MFU {100 * r.get('MFU', 0):5.1f}%  peak {r.get('peak_GiB', 0):6.2f} GiB")
print("== train step (HF transformers, same GPU)")
for line in out["hf"]:
    print("  " + line)
print("== ftengine train --device cuda, digest, MiniLM, --preset maxlen")
for p, r in out["runs"].items():
    print(f"  {p}: {r['train_seconds']:.1f} s of training, test R^2 {r['test_r2']:.4f}, MSE {r['test_mse']:.4f}")
EOF
finish
