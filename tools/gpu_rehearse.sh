#!/usr/bin/env bash
# Rehearses stage 1 of the GPU check (tools/gpu_check.sh) here, on a machine as bare as the GPU
# machine: a minimal Debian root file system (debootstrap) holding only what that image is taken to
# have (g++, cmake, ninja-build, python3; no -dev library, no network used inside), the CUDA
# toolkit bound into it read-only, and a fresh clone of this repository's HEAD with its .gpu/
# bundle (tools/gpu_bundle.sh). Stage 1 must unpack the bundle, configure, build for sm_90 and run
# the gpu-labelled tests (they skip: no GPU), and end with exit 0. Prints its time: the build time
# on these cores tells what the GPU machine's 16 will take.
#   sudo bash tools/gpu_rehearse.sh     # root: debootstrap, chroot and bind mounts need it
# The root file system is kept in $FTENGINE_REHEARSAL_ROOT (default /var/tmp/ftengine-rehearsal-root)
# and reused; remove it to start from nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FS=${FTENGINE_REHEARSAL_ROOT:-/var/tmp/ftengine-rehearsal-root}
CUDA=$(readlink -f "${CUDA_HOME:-/usr/local/cuda}")
T0=$(date +%s)
[[ $(id -u) == 0 ]] || { echo "gpu_rehearse: needs root (debootstrap, chroot, mount)" >&2; exit 1; }
[[ -x $CUDA/bin/nvcc ]] || { echo "gpu_rehearse: no CUDA toolkit at $CUDA" >&2; exit 1; }
[[ -f .gpu/debs/PACKAGES ]] || { echo "gpu_rehearse: no .gpu/ bundle; run tools/gpu_bundle.sh first" >&2; exit 1; }

# The mirror this machine's apt uses (no host name is written into the repository).
mirror() {
  local uri
  uri=$(grep -h -m1 -E '^URIs: .*/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}')
  [[ -n $uri ]] || uri=$(grep -h -m1 -E '^deb .*/debian/? ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}')
  echo "$uri"
}
if [[ ! -f $FS/.complete ]]; then
  command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap; }
  MIRROR=$(mirror)
  [[ -n $MIRROR ]] || { echo "gpu_rehearse: no Debian mirror in /etc/apt sources" >&2; exit 1; }
  rm -rf "$FS"
  echo "gpu_rehearse: debootstrap bookworm (minbase + g++ cmake ninja-build python3) into $FS"
  debootstrap --variant=minbase --include=g++,cmake,ninja-build,python3 bookworm "$FS" "$MIRROR" \
    >"/tmp/gpu_rehearse_debootstrap.log" 2>&1 || { tail -n 20 /tmp/gpu_rehearse_debootstrap.log; exit 1; }
  touch "$FS/.complete"
fi
T1=$(date +%s)
# Nothing of the project's libraries may be in the image: the rehearsal is only worth its name then.
for pc in libutf8proc libzip openblas; do
  if chroot "$FS" sh -c "ls /usr/lib/x86_64-linux-gnu/pkgconfig/$pc.pc" >/dev/null 2>&1; then
    echo "gpu_rehearse: $FS has $pc installed; remove the root file system and rerun" >&2
    exit 1
  fi
done

# A fresh clone of HEAD with the bundle, and the toolkit bound read-only.
WORK=$FS/work/ftengine
rm -rf "$FS/work" && mkdir -p "$FS/work"
git clone -q "$ROOT" "$WORK"
cp -a .gpu "$WORK/.gpu"
mkdir -p "$FS/usr/local/cuda"
cleanup() {
  umount "$FS/usr/local/cuda" 2>/dev/null || true
  umount "$FS/proc" 2>/dev/null || true
  umount "$FS/dev" 2>/dev/null || true
}
trap cleanup EXIT
mount --bind "$CUDA" "$FS/usr/local/cuda" && mount -o remount,bind,ro "$FS/usr/local/cuda" 2>/dev/null || true
mount -t proc proc "$FS/proc"
mount --bind /dev "$FS/dev"

echo "gpu_rehearse: stage 1 inside the root file system (no network used, no GPU)"
set +e
chroot "$FS" /usr/bin/env -i HOME=/root PATH=/usr/local/cuda/bin:/usr/bin:/bin LANG=C.UTF-8 \
  OUT=/work/out bash -c 'cd /work/ftengine && time bash tools/gpu_check.sh 1'
rc=$?
set -e
T2=$(date +%s)
echo "gpu_rehearse: root file system $((T1 - T0)) s, stage 1 $((T2 - T1)) s on $(nproc) cores; exit $rc"
echo "gpu_rehearse: summary in $FS/work/out/summary-stage1.txt"
exit $rc
