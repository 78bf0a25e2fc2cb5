#!/usr/bin/env python3
"""Writes the committed reference files in tests/golden/ from Hugging Face's own code.

Run by a developer (not by CI) with torch, transformers and tokenizers from PyPI:
    python3 tools/make_golden.py [all|checkpoints|tokenizer|model|ops]
Each part lives in tools/golden/<part>.py and writes below tests/golden/<part>/. Outputs are small
and deterministic (fixed seeds); rerunning rewrites them identically.
"""
import argparse
import importlib
import pathlib
import sys

PARTS = ["checkpoints", "tokenizer", "model", "ops"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", default=["all"], help="all, or any of: " + ", ".join(PARTS))
    args = parser.parse_args()
    root = pathlib.Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root / "tools"))
    parts = PARTS if "all" in args.parts else args.parts
    for part in parts:
        if part not in PARTS:
            parser.error(f"unknown part {part!r}")
        module = importlib.import_module(f"golden.{part}")
        out = root / "tests" / "golden" / part
        out.mkdir(parents=True, exist_ok=True)
        print(f"make_golden: {part} -> {out.relative_to(root)}")
        module.main(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
