"""Golden values for tokenizer/: what Hugging Face's BERT tokenizer (transformers' BertTokenizer,
which runs the Rust `tokenizers` library: the "fast" tokenizer) gives, for bert-base-uncased
(do_lower_case=True) and bert-base-cased (do_lower_case=False), vocabularies from
../shared/data/vocab/.

Writes below tests/golden/tokenizer/:
  corpus.json          the assembled texts: hand-written cases (multilingual, emoji and ZWJ
                       sequences, combining marks, Unicode spaces, zero-width and control
                       characters, long words, punctuation runs, special tokens written in the text,
                       empty and blank texts) and random texts (fixed seed) over a pool of tricky
                       code points, of vocabulary words, and of combining sequences
  uncased.json,        per text: input ids with [CLS]/[SEP], byte offsets (HF's character offsets
  cased.json           converted to UTF-8 byte offsets), and the pre-tokenized words
  cases.json           pairs, truncation (longest first) and padding, with type ids and masks;
                       some texts are UCDP rows referred to by file, column and row
  ucdp.json            every row of the UCDP files in ../shared/data/ucdp/ (headlines, articles,
                       daily digests): a 32-bit FNV-1a hash per row of its full encoding (id,
                       begin, end of every token as little-endian int32), untruncated and, for the
                       digests, truncated to 256 and 512
  codepoints.json      every code point through BertNormalizer (clean_text on) under four settings
                       of lowercase and strip_accents (which are removed, which change and into
                       what), the code points handle_chinese_chars isolates, and the pre-tokenizer's
                       whitespace and punctuation classes
  charvocab.json       combining sequences and tricky texts with a vocabulary of single characters
                       (and their ## forms) built from them, so every normalized character is its
                       own token: its byte offsets show where NFD's reordering and the removal of
                       marks put each character (needs no shared data)
  slow_fast.json       where transformers' Python tokenizer (BertTokenizerLegacy, the "slow" one)
                       disagrees with the fast one on these texts; ftengine follows the fast one
"""
import csv
import json
import pathlib
import random
import struct
import sys
import unicodedata
import warnings

import tokenizers
import transformers
from tokenizers import normalizers, pre_tokenizers

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
SHARED = ROOT.parent / "shared" / "data"
VOCABS = {"uncased": ("bert-base-uncased-vocab.txt", True), "cased": ("bert-base-cased-vocab.txt", False)}
UCDP = [("ucdp/ged_syria_2016_2019.csv", "source_headline", False),
        ("ucdp/ged_syria_daily_digest.csv", "text", True),
        ("ucdp/ged_global_sample_1000.csv", "source_headline", False),
        ("ucdp/ged_global_sample_1000.csv", "source_article", False)]
SEED = 20240531

# ---------------------------------------------------------------------------------------------
# The corpus

HAND_WRITTEN = [
    # empty and blank
    "", " ", "   ", "\t", "\n", "\r\n", "\u00a0", "\u3000", " \t\n\r\u00a0\u2003\u3000 ",
    # plain ASCII, punctuation runs, numbers
    "hello world", "Hello World", "HELLO WORLD!!!", "...", "?!?!?!", "--- *** ~~~ ###",
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "a.b,c;d:e!f?g", "(((nested)))", "don't won't can't",
    "3.14159 1,000,000 -42 +7 1e-9 0x1F", "$1.00 €2,50 £3 ¥4 ₹5 ₿6", "50%off 2nd 3rd 21st",
    "https://example.com/path?q=1&r=2#frag", "user@example.org", "#hashtag @mention",
    "C:\\Windows\\System32", "a/b\\c|d", "“quoted” ‘single’ «guillemets» „low“", "em—dash en–dash ‐ ‑ ‒",
    "…ellipsis…", "·•‣⁃", "¡¿", "§¶†‡", "※‼⁇⁈⁉", "〈〉《》「」『』【】〔〕", "、。〃〜",
    # UCDP-like text
    "14 shells hit Dahya al-Assad an clashes continue around Ter Ma’la",
    "At least 25 killed in air strikes on Idlib – activists", "SOHR: 3 civilians killed in Deir ez-Zor",
    # accents and case
    "café naïve résumé Ångström Øresund", "CAFÉ NAÏVE RÉSUMÉ", "Ça va? Où est-ce? À bientôt.",
    "Fatouville-Grestain est une commune du Nord-Ouest du département de l'Eure",
    "Straße STRASSE ß ẞ", "İstanbul ISTANBUL ıi İI", "ΣΊΣΥΦΟΣ σίσυφος ς", "ǅungla ǈ ǋ",
    "Ǆ ǅ ǆ Ǳ ǲ ǳ", "ﬁ ﬂ ﬀ ﬃ ﬄ ﬅ ﬆ", "Ⅻ ⅻ ① ⑴ ⒈", "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３", "Ⓐⓑ",
    "Tiếng Việt có dấu: Nguyễn Thị Minh Khai", "ḍ ṃ ṇ ṣ ṭ ḥ ā ī ū", "Ω Ω K Å",
    # combining marks, canonical order
    "e\u0301 e\u0300 e\u0302 e\u0308", "a\u0327\u0301 a\u0301\u0327", "o\u031b\u0323 o\u0323\u031b",
    "a\u0301\u0301\u0301\u0301", "\u0301 leading mark", "x\u20dd y\u20de", "Z\u0351\u0346\u0344\u0357\u0354A\u0358\u034cL",
    "q\u0307\u0323 q\u0323\u0307", "\u1e0b\u0323 \u1e0d\u0307", "\U0001d15e\U0001d165\U0001d16d",
    "\U0001d160 \U0001d165\U0001d16e\U0001d16d", "a\U0001d16d\U0001d165 a\U0001d165\U0001d16d",
    "a\U0001d165\u0301\U0001d16d", "a\U0001d16d\u0301\U0001d165", "a\U0001d16d\u093f\U0001d165",
    # CJK, kana with voiced sound marks, Hangul
    "生活的真谛是", "我爱北京天安门。", "中文English混合mixed", "𠀀𠀁 𪜀 𫝀 𫠠 𬺰 𮯠 丽 頩", "㐀㐁 豈 﨎",
    "日本語のテキスト", "がぎぐげご ガギグゲゴ", "か\u3099き\u3099 カ\u3099", "ぱぴぷぺぽ パピプペポ", "ｶﾞｷﾞ ﾊﾟ", "ゟ ヿ",
    "한국어 텍스트", "안녕하세요 세계", "\u1100\u1161\u11a8 각", "ㄱㄴㄷ ㅏㅑ",
    # right-to-left and Indic and Southeast Asian scripts
    "مرحبا بالعالم", "قُتِلَ ثلاثة مدنيين في إدلب", "ﺍﻟﻠﻪ ﻻ ﺑﺒﺒ", "عربي، ؛ ؟ ٪ ١٢٣", "\u200fمرحبا\u200e",
    "שלום עולם", "नमस्ते दुनिया", "हिन्दी भाषा में", "क़ ख़ ग़", "বাংলা", "தமிழ்", "తెలుగు", "ಕನ್ನಡ", "മലയാളം",
    "ภาษาไทย สวัสดีครับ", "กิ่งไม้ น้ำ", "ພາສາລາວ", "ភាសាខ្មែរ", "မြန်မာ", "བོད་ཡིག", "ཀྵ ཱི ཱུ",
    "Русский текст Ёё Йй", "Українська Її Ґґ", "Ελληνικά άέήίόύώ ΐΰ", "Հայերեն", "ქართული", "አማርኛ",
    # emoji, ZWJ sequences, modifiers, flags, variation selectors
    "😀😃😄 emoji", "👍🏽 thumbs", "👨‍👩‍👧‍👦 family", "🏳️‍🌈 flag", "🇸🇾🇺🇸 flags", "❤️ ❤ ♥",
    "1️⃣ #️⃣", "🧑🏿‍🚀", "👩‍💻👨🏻‍🔬", "☺︎ ☺️", "text🙂text", "💥💥💥💥💥",
    # zero-width, format, control characters
    "zero\u200bwidth", "zero\u200cnon\u200djoiner", "soft\u00adhyphen", "bom\ufeffinside", "\ufeffleading bom",
    "word\u2060joiner", "lrm\u200e rlm\u200f", "bidi\u202aemb\u202c \u2066iso\u2069", "tag\U000e0041\U000e007f",
    "nul\x00char", "bell\x07 esc\x1b[0m", "del\x7f", "c1\x80\x85\x9f", "ff\x0cvt\x0b", "fs\x1cgs\x1drs\x1eus\x1f",
    "line\u2028sep para\u2029sep", "nel\x85line", "repl\ufffdchar", "private\ue000\uf8ff\U000f0000",
    "nonchar\ufdd0\uffff\U0010ffff", "unassigned\u0378\U0001fffe\U000e0080",
    # Unicode spaces
    "a\u00a0b", "a\u1680b", "a\u2000b\u2001c\u2002d\u2003e\u2004f\u2005g\u2006h\u2007i\u2008j\u2009k\u200al",
    "a\u202fb\u205fc\u3000d", "a\u180eb", "a\u200bb",
    # characters where Unicode versions differ (see tokenizer/unicode_quirks.inc)
    "a\u2e43b", "a\u2e4fb \u2e52", "x\u061dy", "x\u0890y", "x\u08e2y", "\U00011938", "a\u1c89b", "\ua7cb\ua7dc",
    "x\u07fdy", "a\u0898b", "\u166d \U000111c9 \u1734", "\U00013430\U0001343f", "\U00010d50",
    # long words
    "a" * 99, "a" * 100, "a" * 101, "b" * 250, "é" * 100, "é" * 101, "supercalifragilisticexpialidocious",
    "Pneumonoultramicroscopicsilicovolcanoconiosis " * 3, "x" * 60 + "\u0301" * 60,
    "antidisestablishmentarianism" * 4, "中" * 120, "😀" * 101, "İ" * 60, "e\u0301" * 100,
    "ab" * 60 + " " + "cd" * 49, "z" * 1000,
    # special tokens written in the text
    "[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]", "hello [MASK] world", "[mask] [Mask]", "a[SEP]b",
    "[[MASK]]", "[MASK", "MASK]", "[CLS][SEP][MASK]", "x [SEP] y [SEP] z", "[UNK]nown", "[ MASK ]",
    "é[MASK]é", "[MASK]\u0301",
]


def random_pool():
    """Code points for random texts: the tricky classes, a few of each, chosen by rule."""
    pool = []
    pool += list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") * 6
    pool += list(" " * 30) + list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
    pool += [chr(c) for c in (0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x00, 0x7F, 0x85, 0xA0, 0xAD, 0x1680, 0x2000, 0x2007,
                              0x200A, 0x200B, 0x200C, 0x200D, 0x2028, 0x2029, 0x202F, 0x205F, 0x2060, 0x3000,
                              0xFEFF, 0xFFFD, 0xE000, 0xFFFF, 0x0378, 0xFE0F, 0x1F3FB, 0xE0041)]
    pool += list("éèêëàâäçñõøåæœßİıĳŉſǅǈǉΣσςΆΐёЁ") + list("中国日本語文字漢字𠀀豈")
    pool += list("あいうえおかきがぎゃっアイウガギャッｶﾞ") + list("한국어안녕") + ["\u1100", "\u1161", "\u11a8"]
    pool += list("مرحباقتلإدبﻻ") + ["\u064e", "\u064f", "\u0650", "\u0651", "\u0652", "\u0670"]
    pool += list("नमस्तेहिन्दीक़") + ["\u093c", "\u094d", "\u0901", "\u0902"] + list("ภาษาไทยกิ่งน้ำ")
    pool += list("😀👍👨👩👧🏳🌈🇸🇾❤🙂") + ["\u20e3", "\u20dd"]
    pool += list("“”‘’«»–—…·•、。「」（）！？") + ["\u2e43", "\u2e52", "\u061d", "\u166d", "\U000111c9", "\u0890"]
    # combining marks by class: nonspacing (several canonical classes) and the rare spacing marks
    # with a nonzero class, which strip_accents keeps and NFD may reorder
    marks = [chr(c) for c in range(0x300, 0x370)] + ["\u0591", "\u05b0", "\u0e38", "\u0e48", "\u0f71", "\u0f72",
                                                      "\u0f74", "\u3099", "\u309a", "\u1ab0", "\u1dc0"]
    spacing_nonzero = [chr(c) for c in range(0x110000)
                       if unicodedata.category(chr(c)) == "Mc" and unicodedata.combining(chr(c)) > 0]
    pool += marks[::3] + spacing_nonzero
    return pool


def mark_pool():
    """Combining sequences: marks of many canonical classes (removed or kept by strip_accents),
    precomposed letters, decompositions that start with a mark, musical symbols (spacing marks with
    a nonzero class that NFD reorders and strip_accents keeps), characters clean_text removes."""
    pool = list("aexAEX") + list("éḉǖṩờǺÅİ") + ["\uac01", "\u1100", "\u1161", "\u11a8", "中", " ", ".", "\u200b",
                                            "\x00", "\u00ad"]
    pool += ["\u0300", "\u0316", "\u0327", "\u0334", "\u0345", "\u05b0", "\u0f71", "\u0f72", "\u0f74",
             "\u3099", "\u093c", "\u094d", "\u0941", "\u0e31", "\u0903", "\u20dd"]
    pool += ["\u0344", "\u0f73", "\u0f75", "\u0f81", "\u0340", "\u0341", "\u0343"]
    pool += [chr(c) for c in (0x1D165, 0x1D166, 0x1D16D, 0x1D16E, 0x1D172, 0x1D15E, 0x1D160, 0x1D164, 0x1D1BB,
                              0x1D1C0)] * 2
    return pool


def random_texts(rng, pool, count):
    texts = []
    for _ in range(count):
        n = rng.randint(1, 40)
        texts.append("".join(rng.choice(pool) for _ in range(n)))
    return texts


def vocab_texts(rng, vocab_words, count):
    """Texts of vocabulary words (and pieces without ##) with random case, accents and glue."""
    glue = [" ", " ", " ", "", "-", ".", ", ", "\u00a0", "\u0301 ", "'"]
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 12)):
            w = rng.choice(vocab_words)
            if w.startswith("##"):
                w = w[2:]
            r = rng.random()
            if r < 0.2:
                w = w.upper()
            elif r < 0.4:
                w = w.capitalize()
            parts.append(w + rng.choice(glue))
        texts.append("".join(parts).strip())
    return texts


def build_corpus():
    rng = random.Random(SEED)
    pool = random_pool()
    words = []
    for name, _ in VOCABS.values():
        words += [w for w in (SHARED / "vocab" / name).read_text(encoding="utf-8").split("\n")
                  if w and not w.startswith("[")]
    corpus = list(HAND_WRITTEN)
    corpus += random_texts(rng, pool, 1000)
    corpus += vocab_texts(rng, words, 400)
    marks = mark_pool()
    corpus += ["".join(rng.choice(marks) for _ in range(rng.randint(1, 10))) for _ in range(500)]
    return corpus


# ---------------------------------------------------------------------------------------------
# Hugging Face side


def hf_tokenizer(kind):
    name, lower = VOCABS[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return transformers.BertTokenizer(str(SHARED / "vocab" / name), do_lower_case=lower)


def hf_slow_tokenizer(kind):
    name, lower = VOCABS[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return transformers.BertTokenizerLegacy(str(SHARED / "vocab" / name), do_lower_case=lower)


def byte_offsets(text, char_offsets):
    """HF's character offsets -> UTF-8 byte offsets (specials keep (0, 0))."""
    starts = [0]
    for ch in text:
        starts.append(starts[-1] + len(ch.encode("utf-8")))
    return [[starts[b], starts[e]] for b, e in char_offsets]


def encode(tok, text, pair=None, max_length=None, pad=False):
    kwargs = dict(return_offsets_mapping=True, add_special_tokens=True)
    if max_length:
        kwargs.update(truncation="longest_first", max_length=max_length)
    if pad:
        kwargs.update(padding="max_length")
    e = tok(text, pair, **kwargs) if pair is not None else tok(text, **kwargs)
    offsets = e["offset_mapping"]
    if pair is None:
        offs = byte_offsets(text, offsets)
    else:
        # Offsets of the second sequence refer to the second text.
        types = e["token_type_ids"]
        offs = [byte_offsets(pair if t == 1 and o != (0, 0) else text, [o])[0] for o, t in zip(offsets, types)]
    return {"ids": e["input_ids"], "type_ids": e["token_type_ids"], "attention_mask": e["attention_mask"],
            "offsets": offs}


def words(tok, text):
    """The pre-tokenized words (normalizer + pre-tokenizer), for texts without special tokens."""
    if any(s in text for s in tok.all_special_tokens):
        return None
    backend = tok.backend_tokenizer
    return [w for w, _ in backend.pre_tokenizer.pre_tokenize_str(backend.normalizer.normalize_str(text))]


def fnv1a32(values):
    h = 0x811C9DC5
    for byte in struct.pack(f"<{len(values)}i", *values):
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def encoding_hash(enc):
    flat = []
    for i, (b, e) in zip(enc["ids"], enc["offsets"]):
        flat += [i, b, e]
    return fnv1a32(flat)


def read_column(path, column):
    with open(path, newline="", encoding="utf-8") as f:
        return [row[column] for row in csv.DictReader(f)]


# ---------------------------------------------------------------------------------------------
# Writers


def dump_lines(path, head, key, items):
    """JSON with one item per line, so diffs stay readable."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("{\n")
        for k, v in head.items():
            f.write(f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)},\n")
        f.write(f"{json.dumps(key)}: [\n")
        for i, item in enumerate(items):
            f.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")))
            f.write(",\n" if i + 1 < len(items) else "\n")
        f.write("]\n}\n")


def write_corpus(out, corpus, toks):
    dump_lines(out / "corpus.json", {"seed": SEED, "count": len(corpus)}, "texts", corpus)
    for kind, tok in toks.items():
        items = []
        for i, text in enumerate(corpus):
            e = encode(tok, text)
            item = {"ids": e["ids"], "offsets": e["offsets"]}
            if i < len(HAND_WRITTEN):  # the words help to read a failure; random texts go without
                item["words"] = words(tok, text)
            items.append(item)
        head = {"vocab": VOCABS[kind][0], "do_lower_case": VOCABS[kind][1], "transformers": transformers.__version__,
                "tokenizers": tokenizers.__version__}
        dump_lines(out / f"{kind}.json", head, "encodings", items)


def write_cases(out, corpus, toks):
    rng = random.Random(SEED + 1)
    digests = read_column(SHARED / "ucdp/ged_syria_daily_digest.csv", "text")
    headlines = read_column(SHARED / "ucdp/ged_syria_2016_2019.csv", "source_headline")
    long_rows = sorted(range(len(digests)), key=lambda i: -len(digests[i]))[:1] + [0]
    cases = []

    def add(kind, a, b, max_length, pad, a_ref=None, b_ref=None):
        e = encode(toks[kind], a, b, max_length, pad)
        case = {"vocab": kind, "max_length": max_length or 0, "pad": pad}
        case.update({"a": a} if a_ref is None else {"a_ref": a_ref})
        if b is not None:
            case.update({"b": b} if b_ref is None else {"b_ref": b_ref})
        case.update(e)
        cases.append(case)

    short = [t for t in corpus if 0 < len(t) < 200]
    for kind in toks:
        for row in long_rows:
            ref = ["ucdp/ged_syria_daily_digest.csv", "text", row]
            add(kind, digests[row], None, 512, False, a_ref=ref)
            add(kind, digests[row], None, 256, True, a_ref=ref)
            h = rng.randrange(len(headlines))
            add(kind, headlines[h], digests[row], 256, True, a_ref=["ucdp/ged_syria_2016_2019.csv",
                                                                    "source_headline", h], b_ref=ref)
        for _ in range(120):
            a, b = rng.choice(short), rng.choice(short)
            m = rng.choice([3, 4, 5, 6, 7, 8, 10, 13, 16, 32, 64])
            pad = rng.random() < 0.5
            if rng.random() < 0.5:
                add(kind, a, None, max(m, 2), pad)
            else:
                add(kind, a, b, m, pad)
        for a in short[:40]:
            add(kind, a, "second segment here", None, False)
    dump_lines(out / "cases.json", {"count": len(cases)}, "cases", cases)


def write_ucdp(out, toks):
    files = []
    for rel, column, truncations in UCDP:
        texts = read_column(SHARED / rel, column)
        entry = {"file": rel, "column": column, "rows": len(texts)}
        for kind, tok in toks.items():
            backend = tok.backend_tokenizer
            for m in [None] + ([256, 512] if truncations else []):
                if m:
                    backend.enable_truncation(max_length=m)
                else:
                    backend.no_truncation()
                backend.no_padding()
                encs = backend.encode_batch(texts)
                hashes, tokens = [], 0
                for text, enc in zip(texts, encs):
                    e = {"ids": enc.ids, "offsets": byte_offsets(text, enc.offsets)}
                    hashes.append(f"{encoding_hash(e):08x}")
                    tokens += len(enc.ids)
                name = kind if m is None else f"{kind}_{m}"
                entry[name] = "".join(hashes)
                entry[name + "_tokens"] = tokens
            backend.no_truncation()
        files.append(entry)
    with open(out / "ucdp.json", "w") as f:
        json.dump({"hash": "fnv1a32 over little-endian int32 (id, begin, end) per token, specials included",
                   "files": files}, f, indent=1)
        f.write("\n")


def ranges(cps):
    out = []
    for c in cps:
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


def write_codepoints(out):
    configs = {"lower_strip": (True, True), "cased": (False, False), "lower_nostrip": (True, False),
               "strip_nolower": (False, True)}
    cps = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    result = {"tokenizers": tokenizers.__version__, "configs": {}}
    # handle_chinese_chars only puts spaces around the ideographs: recorded once, as ranges.
    only_chinese = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False,
                                              lowercase=False)
    result["chinese"] = ranges([c for c in cps if only_chinese.normalize_str(chr(c)) == " " + chr(c) + " "])
    for name, (lower, strip) in configs.items():
        n = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=strip,
                                       lowercase=lower)
        removed, changed = [], {}
        for c in cps:
            s = n.normalize_str(chr(c))
            if s == "":
                removed.append(c)
            elif s != chr(c):
                changed[str(c)] = s
        result["configs"][name] = {"lowercase": lower, "strip_accents": strip, "removed": ranges(removed),
                                   "changed": changed}
    pretok = pre_tokenizers.BertPreTokenizer()
    ws, punct = [], []
    for c in cps:
        splits = [s for s, _ in pretok.pre_tokenize_str("x" + chr(c) + "x")]
        if splits == ["x", "x"]:
            ws.append(c)
        elif len(splits) == 3:
            punct.append(c)
    result["whitespace"] = ranges(ws)
    result["punctuation"] = ranges(punct)
    with open(out / "codepoints.json", "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def write_slow_fast(out, corpus, toks):
    result = {}
    for kind, fast in toks.items():
        slow = hf_slow_tokenizer(kind)
        texts = list(corpus)
        for rel, column, _ in UCDP:
            texts += read_column(SHARED / rel, column)
        diffs = []
        for text in texts:
            f = fast(text)["input_ids"]
            s = slow(text)["input_ids"]
            if f != s:
                diffs.append({"text": text, "fast": fast.convert_ids_to_tokens(f), "slow": slow.convert_ids_to_tokens(s)})
        result[kind] = {"texts": len(texts), "differ": len(diffs), "examples": diffs[:30]}
    with open(out / "slow_fast.json", "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=1)
        f.write("\n")


def write_charvocab(out):
    from tokenizers import Tokenizer, models, processors
    rng = random.Random(SEED + 2)
    marks, pool = mark_pool(), random_pool()
    texts = ["".join(rng.choice(marks) for _ in range(rng.randint(1, 12))) for _ in range(300)]
    texts += ["".join(rng.choice(pool) for _ in range(rng.randint(1, 12))) for _ in range(100)]
    result = {"texts": texts}
    for kind, lower in (("uncased", True), ("cased", False)):
        norm = normalizers.BertNormalizer(lowercase=lower)
        chars = sorted({c for t in texts for c in norm.normalize_str(t)} - {" "})
        vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars + ["##" + c for c in chars]
        tok = Tokenizer(models.WordPiece({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
        tok.normalizer = norm
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]",
                                                           special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
        encs = [{"ids": e.ids, "offsets": byte_offsets(t, e.offsets)} for t, e in zip(texts, tok.encode_batch(texts))]
        result[kind] = {"lowercase": lower, "vocab": vocab, "encodings": encs}
    with open(out / "charvocab.json", "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def main(out_dir: pathlib.Path):
    if not (SHARED / "vocab").exists():
        sys.exit(f"tokenizer golden: {SHARED} not found (the shared data set)")
    toks = {kind: hf_tokenizer(kind) for kind in VOCABS}
    corpus = build_corpus()
    write_corpus(out_dir, corpus, toks)
    write_cases(out_dir, corpus, toks)
    write_ucdp(out_dir, toks)
    write_codepoints(out_dir)
    write_charvocab(out_dir)
    write_slow_fast(out_dir, corpus, toks)
    for p in sorted(out_dir.iterdir()):
        print(f"  {p.name}: {p.stat().st_size} bytes")
