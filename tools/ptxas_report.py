#!/usr/bin/env python3
"""Resource usage of every CUDA kernel, as `nvcc -Xptxas -v` reports it, for docs/kernels.md.

Compiles each cuda/*.cu (no GPU needed) for each architecture with the project's flags and prints a
markdown table per file: kernel (demangled, shortened) against registers, static shared memory,
stack and spilled bytes for each architecture. Dynamic shared memory (the layernorm backward's per-warp partials) is not in
ptxas's numbers; docs/kernels.md states it.

    python3 tools/ptxas_report.py                 # sm_80 and sm_90, every file
    python3 tools/ptxas_report.py --arch 90 cuda/layernorm.cu
"""
import argparse
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
NVCC = "/usr/local/cuda/bin/nvcc"


def demangle(names):
    out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def shorten(name: str) -> str:
    name = name.replace("ft::cuda::", "").replace("(anonymous namespace)::", "").replace("__nv_bfloat16", "bf16")
    name = re.sub(r"\(.*\)$", "", name)  # drop the parameter list
    name = re.sub(r"^void ", "", name)
    name = re.sub(r"CUB_\d+_SM_\d+::", "", name)  # CUB's versioned namespace differs per architecture
    if name.startswith("cub::"):
        name = "cub::" + name.split("<")[0].split("::")[-1]
    return name


def report(path: pathlib.Path, arch: str):
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [NVCC, "-O3", "-std=c++20", "--expt-relaxed-constexpr", f"-I{ROOT}", "-DFTENGINE_HAVE_CUDA=1",
               f"-gencode=arch=compute_{arch},code=sm_{arch}", "-Xptxas", "-v", "-c", str(path), "-o",
               f"{tmp}/out.o"]
        res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"{path}: nvcc failed\n{res.stderr}")
    rows, current = [], None
    for line in res.stderr.splitlines():
        m = re.search(r"Compiling entry function '(\S+)' for 'sm_(\d+)'", line)
        if m:
            current = {"mangled": m.group(1)}
            rows.append(current)
            continue
        if current is None:
            continue
        m = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads", line)
        if m:
            current.update(stack=int(m.group(1)), spill_st=int(m.group(2)), spill_ld=int(m.group(3)))
        m = re.search(r"Used (\d+) registers", line)
        if m:
            current["regs"] = int(m.group(1))
            s = re.search(r"(\d+) bytes smem", line)
            current["smem"] = int(s.group(1)) if s else 0
    names = demangle([r["mangled"] for r in rows])
    for r, n in zip(rows, names):
        r["name"] = shorten(n)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="80,90", help="comma-separated compute capabilities")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    archs = args.arch.split(",")
    files = [pathlib.Path(f) for f in args.files] or sorted((ROOT / "cuda").glob("*.cu"))
    for f in files:
        per_arch = {a: {r["name"]: r for r in report(f, a) if "regs" in r} for a in archs}
        names = sorted({n for rows in per_arch.values() for n in rows})
        print(f"\n`{f.name}` (`nvcc -Xptxas -v`: registers / static shared bytes / stack bytes / spill stores+loads)\n")
        print("| kernel | " + " | ".join(f"sm_{a}" for a in archs) + " |")
        print("|---|" + "---|" * len(archs))
        for n in names:
            cells = []
            for a in archs:
                r = per_arch[a].get(n)
                cells.append("-" if r is None else
                             f"{r['regs']} / {r['smem']} / {r.get('stack', 0)} / "
                             f"{r.get('spill_st', 0) + r.get('spill_ld', 0)}")
            print(f"| `{n}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
