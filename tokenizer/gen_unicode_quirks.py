#!/usr/bin/env python3
"""Writes tokenizer/unicode_quirks.inc: where Hugging Face `tokenizers` departs from utf8proc.

The BERT normalizer and pre-tokenizer of `tokenizers` take their character classes from Rust crates
with tables of different Unicode versions: `unicode_categories` (control/format/private use, Mn,
punctuation; Unicode 8-era tables), `unicode-normalization-alignments` (NFD, combining classes) and
Rust's std (lower-casing, White_Space; a recent Unicode). ftengine asks utf8proc for all of these,
so on a few hundred code points the two disagree. This script probes the installed `tokenizers`
one code point at a time, compares with utf8proc (through ctypes) and writes the exceptions as
ranges; tokenizer/unicode_props.cpp applies them on top of utf8proc. Nothing here is typed by hand:
rerun it after upgrading either library, then rerun tests/tokenizer_unicode (which compares every
code point against tests/golden/tokenizer/codepoints.json, written by tools/golden/tokenizer.py).

    python3 tokenizer/gen_unicode_quirks.py     # needs tokenizers (PyPI) and libutf8proc
"""
import ctypes
import ctypes.util
import pathlib
import sys

import tokenizers
from tokenizers import normalizers, pre_tokenizers

CATEGORIES = ["Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps",
              "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co"]
ASCII_PUNCT = set(map(ord, "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"))
UTF8PROC_STABLE, UTF8PROC_DECOMPOSE = 1 << 1, 1 << 4


class Utf8proc:
    """The base model: exactly what tokenizer/unicode_props.cpp computes before the quirks."""

    class Property(ctypes.Structure):
        _fields_ = [("category", ctypes.c_int16), ("combining_class", ctypes.c_int16)]

    def __init__(self):
        name = ctypes.util.find_library("utf8proc") or "libutf8proc.so.2"
        self.lib = ctypes.CDLL(name)
        self.lib.utf8proc_unicode_version.restype = ctypes.c_char_p
        self.lib.utf8proc_version.restype = ctypes.c_char_p
        self.lib.utf8proc_get_property.restype = ctypes.POINTER(Utf8proc.Property)
        self.lib.utf8proc_tolower.restype = ctypes.c_int32
        self.lib.utf8proc_decompose_char.restype = ctypes.c_ssize_t
        self.buf = (ctypes.c_int32 * 32)()

    def unicode_version(self):
        return self.lib.utf8proc_unicode_version().decode()

    def version(self):
        return self.lib.utf8proc_version().decode()

    def category(self, c):
        return CATEGORIES[self.lib.utf8proc_get_property(c).contents.category]

    def ccc(self, c):
        return self.lib.utf8proc_get_property(c).contents.combining_class

    def is_other(self, c):  # unicode_categories' is_other: Cc, Cf, Co (not Cn, not Cs)
        return self.category(c) in ("Cc", "Cf", "Co")

    def is_mn(self, c):
        return self.category(c) == "Mn"

    def is_punct(self, c):
        return c in ASCII_PUNCT or self.category(c).startswith("P")

    def is_whitespace(self, c):  # Rust's char::is_whitespace (White_Space) from categories
        return c in (9, 10, 11, 12, 13, 0x85) or self.category(c) in ("Zs", "Zl", "Zp")

    def nfd(self, c):
        n = self.lib.utf8proc_decompose_char(c, self.buf, 32, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE, None)
        assert 0 < n <= 32
        return "".join(chr(self.buf[i]) for i in range(n))

    def lower(self, c):
        return chr(self.lib.utf8proc_tolower(c))


def code_points():
    return [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]


def ranges(cps):
    """Sorted code points -> [(first, last)]."""
    out = []
    for c in sorted(cps):
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return [tuple(r) for r in out]


def probe(base):
    """Every property where tokenizers disagrees with the utf8proc model, one code point at a time."""
    only_clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False,
                                            lowercase=False)
    only_strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True,
                                            lowercase=False)
    only_lower = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=False,
                                            lowercase=True)
    nfd = normalizers.NFD()
    pretok = pre_tokenizers.BertPreTokenizer()
    q = {"other": {}, "mn": {}, "punct": {}, "ccc_zero": set(), "lower": {}, "nfd": {}}
    for c in code_points():
        ch = chr(c)
        # clean_text drops c == 0, U+FFFD and is_other (but never \t \n \r), and maps White_Space to ' '.
        cleaned = only_clean.normalize_str(ch)
        if c not in (0, 9, 10, 13, 0xFFFD):
            hf_other = cleaned == ""
            if not hf_other:
                assert cleaned == (" " if base.is_whitespace(c) else ch), hex(c)
            if hf_other != base.is_other(c):
                q["other"][c] = hf_other
        hf_nfd = nfd.normalize_str(ch)
        if hf_nfd != base.nfd(c):
            q["nfd"][c] = hf_nfd
        if hf_nfd == ch:  # Mn only matters for characters that NFD leaves alone
            hf_mn = only_strip.normalize_str(ch) == ""
            if hf_mn != base.is_mn(c):
                q["mn"][c] = hf_mn
            # HF's combining class is > 0 iff the character moves in front of U+0345 (class 240).
            if base.ccc(c) > 0 and c != 0x345 and base.ccc(c) < 240:
                swapped = nfd.normalize_str("a\u0345" + ch) == "a" + ch + "\u0345"
                if not swapped:
                    q["ccc_zero"].add(c)
            elif base.ccc(c) == 0 and c not in (0x345,):
                assert nfd.normalize_str("a\u0345" + ch) == "a\u0345" + ch, hex(c)
        hf_lower = only_lower.normalize_str(ch)
        if hf_lower != base.lower(c):
            q["lower"][c] = hf_lower
        splits = [s for s, _ in pretok.pre_tokenize_str("x" + ch + "x")]
        if splits == ["x", "x"]:
            assert base.is_whitespace(c), hex(c)
        else:
            assert not base.is_whitespace(c), hex(c)
            hf_punct = splits == ["x", ch, "x"]
            assert hf_punct or splits == ["x" + ch + "x"], (hex(c), splits)
            if hf_punct != base.is_punct(c):
                q["punct"][c] = hf_punct
    return q


def c_string(s):
    return "{" + ", ".join(f"0x{ord(x):04X}" for x in s) + "}"


def write_inc(path, base, q):
    lines = [
        "// Generated by tokenizer/gen_unicode_quirks.py: do not edit. Where Hugging Face `tokenizers`",
        f"// {tokenizers.__version__} departs from utf8proc {base.version()} (Unicode {base.unicode_version()}),"
        " code point by code point.",
        "// clang-format off",
        f'inline constexpr const char kQuirksUtf8procUnicodeVersion[] = "{base.unicode_version()}";',
        f'inline constexpr const char kQuirksTokenizersVersion[] = "{tokenizers.__version__}";',
    ]

    def flag_ranges(name, comment, table):
        lines.append(f"// {comment}")
        lines.append(f"inline constexpr QuirkRange {name}[] = {{")
        items = sorted(table.items())
        runs = []
        for c, v in items:
            if runs and runs[-1][1] == c - 1 and runs[-1][2] == v:
                runs[-1][1] = c
            else:
                runs.append([c, c, v])
        for first, last, v in runs:
            lines.append(f"  {{0x{first:04X}, 0x{last:04X}, {'true' if v else 'false'}}},")
        if not runs:
            lines.append("  {0x110000, 0x110000, false},  // none")
        lines.append("};")

    flag_ranges("kOtherQuirks", "is_other (Cc, Cf, Co): removed by clean_text.", q["other"])
    flag_ranges("kNonspacingMarkQuirks", "Mn: removed by strip_accents (after NFD).", q["mn"])
    flag_ranges("kPunctuationQuirks", "Punctuation: isolated by the pre-tokenizer.", q["punct"])
    flag_ranges("kZeroCombiningClassQuirks", "Canonical combining class 0 in tokenizers' NFD (value: true).",
                {c: True for c in q["ccc_zero"]})

    def mapping(name, comment, table):
        lines.append(f"// {comment}")
        lines.append(f"inline constexpr QuirkMapping {name}[] = {{")
        for c, s in sorted(table.items()):
            assert 0 < len(s) <= 4, (hex(c), s)
            lines.append(f"  {{0x{c:04X}, {len(s)}, {c_string(s)}}},")
        if not table:
            lines.append("  {0x110000, 0, {0}},  // none")
        lines.append("};")

    mapping("kLowercaseQuirks", "Rust's char::to_lowercase where it differs from utf8proc_tolower.", q["lower"])
    mapping("kDecompositionQuirks", "tokenizers' NFD of one code point where it differs from utf8proc.", q["nfd"])
    lines.append("// clang-format on")
    path.write_text("\n".join(lines) + "\n")


def main():
    base = Utf8proc()
    q = probe(base)
    out = pathlib.Path(__file__).resolve().parent / "unicode_quirks.inc"
    write_inc(out, base, q)
    for k, v in q.items():
        print(f"{k}: {len(v)} code points")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
