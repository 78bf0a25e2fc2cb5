#include "tokenizer/basic_tokenizer.h"

#include <algorithm>

#include "core/error.h"
#include "tokenizer/unicode_props.h"
#include "tokenizer/utf8.h"

namespace ft {

namespace {

void reserve(WordScratch& s, size_t extra) {
  const size_t need = s.size + extra;
  if (need <= s.text.size()) return;
  const size_t cap = std::max<size_t>(need, 2 * s.text.size() + 256);
  s.text.resize(cap);
  s.src_begin.resize(cap);
  s.src_len.resize(cap);
}

// Appends one character's normalized bytes, all mapped to the input span [at, at + len).
inline void append(WordScratch& s, const char* bytes, size_t n, size_t chars, uint32_t at, uint8_t len) {
  reserve(s, n);
  for (size_t k = 0; k < n; ++k) {
    s.text[s.size + k] = bytes[k];
    s.src_begin[s.size + k] = at;
    s.src_len[s.size + k] = len;
  }
  s.size += n;
  s.chars += chars;
}

inline void flush(WordScratch& s, WordSink& sink) {
  if (s.size > 0) {
    Word w;
    w.text = std::string_view(s.text.data(), s.size);
    w.chars = s.chars;
    w.src_begin = s.src_begin.data();
    w.src_len = s.src_len.data();
    sink.on_word(w);
  }
  s.size = 0;
  s.chars = 0;
}

// A word of one punctuation character (the current word must have been flushed).
inline void emit_single(WordScratch& s, WordSink& sink, const char* bytes, size_t n, uint32_t at, uint8_t len) {
  append(s, bytes, n, 1, at, len);
  flush(s, sink);
}

// One normalized character in the pre-tokenizer: a boundary, a word of its own, or part of a word.
void emit_char(WordScratch& s, WordSink& sink, char32_t c, uint32_t at, uint8_t len) {
  char buf[4];
  const size_t m = static_cast<size_t>(utf8::encode(c, buf));
  if (hf_unicode::is_whitespace(c)) {
    flush(s, sink);
  } else if (hf_unicode::is_punctuation(c)) {
    flush(s, sink);
    emit_single(s, sink, buf, m, at, len);
  } else {
    append(s, buf, m, 1, at, len);
  }
}

// The run bookkeeping of a character handled by a fast path (only strip_accents makes runs).
inline void track_run(WordScratch& s, const CharAction& a, uint32_t at) {
  if (a.has_starter)
    s.run_origin = a.ends_with_mark ? at : WordScratch::kNoRun;
  else if (s.run_origin == WordScratch::kNoRun)
    s.run_origin = at;
}

}  // namespace

BasicTokenizer::BasicTokenizer(const NormalizerOptions& options) : actions_(options) {
  for (int b = 0; b < 128; ++b) {
    const CharAction& a = actions_.bmp(static_cast<char32_t>(b));
    // Every ASCII character normalizes to at most one ASCII byte (or nothing), with no marks.
    FT_CHECK(a.kind == CharKind::kWord || a.kind == CharKind::kSpace || a.kind == CharKind::kPunct ||
                 a.kind == CharKind::kDrop,
             "BasicTokenizer: unexpected action for ASCII ", b);
    FT_CHECK(a.kind == CharKind::kSpace || a.kind == CharKind::kDrop || (a.len == 1 && !a.ends_with_mark),
             "BasicTokenizer: unexpected output for ASCII ", b);
    ascii_kind_[b] = a.kind;
    ascii_out_[b] = a.len == 1 ? a.bytes[0] : ' ';
  }
}

void BasicTokenizer::reconstruct_run(const unsigned char* text, uint32_t at, WordScratch& s) const {
  CharPiece ps[8];
  for (uint32_t i = s.run_origin; i < at;) {
    char32_t c;
    const int len = utf8::decode(text + i, &c);
    const uint32_t here = i;
    i += static_cast<uint32_t>(len);
    if (actions_.options().clean_text && hf_unicode::is_removed_by_clean_text(c)) continue;
    const int n = actions_.pieces(c, ps, 8);
    // The run began after this character's last starter (or with its first piece).
    int from = 0;
    for (int k = 0; k < n; ++k)
      if (ps[k].combining_class == 0) from = k + 1;
    for (int k = from; k < n; ++k) {
      WordScratch::RunPiece r{};
      r.combining_class = static_cast<uint8_t>(ps[k].combining_class);
      r.first = k == 0;
      r.kept = ps[k].count > 0;
      r.count = static_cast<uint8_t>(ps[k].count);
      std::copy_n(ps[k].out, ps[k].count, r.out);
      r.at = here;
      r.len = static_cast<uint8_t>(len);
      s.run.push_back(r);
    }
  }
  s.run_origin = WordScratch::kNoRun;
}

void BasicTokenizer::finish_run(WordScratch& s, WordSink& sink) const {
  if (s.run.empty()) return;
  // Spans in the original order: first pieces take the next character's span in turn.
  s.run_spans.clear();
  for (const auto& r : s.run)
    if (r.first) s.run_spans.emplace_back(r.at, r.len);
  std::stable_sort(s.run.begin(), s.run.end(),
                   [](const auto& x, const auto& y) { return x.combining_class < y.combining_class; });
  size_t next = 0;
  uint32_t at = s.run[0].at;
  uint8_t len = s.run[0].len;
  for (const auto& r : s.run) {
    if (r.first && next < s.run_spans.size()) {
      at = s.run_spans[next].first;
      len = s.run_spans[next].second;
      ++next;
    }
    for (int k = 0; k < r.count; ++k) emit_char(s, sink, r.out[k], at, len);
  }
  s.run.clear();
  s.run_kept = false;
}

void BasicTokenizer::process_generic(const unsigned char* text, char32_t c, uint32_t at, uint8_t len, WordScratch& s,
                                     WordSink& sink) const {
  const NormalizerOptions& o = actions_.options();
  if (o.clean_text && hf_unicode::is_removed_by_clean_text(c)) return;  // invisible to NFD as well
  if (o.clean_text && hf_unicode::is_whitespace(c)) {
    finish_run(s, sink);
    s.run_origin = WordScratch::kNoRun;
    flush(s, sink);
    return;
  }
  CharPiece ps[8];
  const int n = actions_.pieces(c, ps, 8);
  if (ps[0].combining_class > 0 && s.run.empty() && s.run_origin != WordScratch::kNoRun) reconstruct_run(text, at, s);
  s.run_origin = WordScratch::kNoRun;
  const bool isolated = o.handle_chinese_chars && hf_unicode::is_chinese_char(c);
  if (isolated) {
    finish_run(s, sink);
    flush(s, sink);
  }
  for (int k = 0; k < n; ++k) {
    const CharPiece& p = ps[k];
    if (p.combining_class == 0) {
      finish_run(s, sink);
      for (int m = 0; m < p.count; ++m) emit_char(s, sink, p.out[m], at, len);
      continue;
    }
    WordScratch::RunPiece r{};
    r.combining_class = static_cast<uint8_t>(p.combining_class);
    r.first = k == 0;
    r.kept = p.count > 0;
    r.count = static_cast<uint8_t>(p.count);
    std::copy_n(p.out, p.count, r.out);
    r.at = at;
    r.len = len;
    s.run.push_back(r);
    s.run_kept |= r.kept;
  }
  // A run that holds only removed marks needs no collecting: track it cheaply again.
  if (!s.run.empty() && !s.run_kept) {
    const uint32_t origin = s.run[0].at;
    s.run.clear();
    s.run_origin = origin;
  }
  if (isolated) {
    finish_run(s, sink);
    flush(s, sink);
  }
}

void BasicTokenizer::split(std::string_view text, size_t begin, size_t end, WordScratch& s, WordSink& sink) const {
  FT_CHECK(text.size() < (size_t{1} << 32) - 1, "text: longer than 4 GiB");
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  s.size = 0;
  s.chars = 0;
  s.run.clear();
  s.run_kept = false;
  s.run_origin = WordScratch::kNoRun;
  size_t i = begin;
  while (i < end) {
    unsigned char b = p[i];
    if (b < 0x80) {
      const CharKind kind = ascii_kind_[b];
      if (kind == CharKind::kDrop) {  // invisible to NFD: runs go on across it
        ++i;
        continue;
      }
      if (!s.run.empty()) finish_run(s, sink);
      s.run_origin = WordScratch::kNoRun;
      if (kind == CharKind::kWord) {
        // A run of ASCII word characters, at most 64 bytes per capacity check.
        do {
          const size_t stop = std::min(end, i + 64);
          reserve(s, stop - i);
          char* out = s.text.data() + s.size;
          uint32_t* src = s.src_begin.data() + s.size;
          uint8_t* src_len = s.src_len.data() + s.size;
          size_t k = 0;
          while (i < stop && (b = p[i]) < 0x80 && ascii_kind_[b] == CharKind::kWord) {
            out[k] = ascii_out_[b];
            src[k] = static_cast<uint32_t>(i);
            src_len[k] = 1;
            ++k;
            ++i;
          }
          s.size += k;
          s.chars += k;
          if (i < stop) break;
        } while (i < end && p[i] < 0x80 && ascii_kind_[p[i]] == CharKind::kWord);
        continue;
      }
      if (kind == CharKind::kSpace) {
        flush(s, sink);
      } else {  // kPunct
        flush(s, sink);
        emit_single(s, sink, &ascii_out_[b], 1, static_cast<uint32_t>(i), 1);
      }
      ++i;
      continue;
    }
    char32_t c;
    const int n = utf8::decode(p + i, &c);
    const uint32_t at = static_cast<uint32_t>(i);
    const uint8_t len = static_cast<uint8_t>(n);
    i += static_cast<size_t>(n);
    CharAction local;
    const CharAction* a;
    const std::string* pool;
    if (c < 0x10000) {
      a = &actions_.bmp(c);
      pool = &actions_.pool();
    } else {
      s.pool.clear();
      local = actions_.compute(c, &s.pool);
      a = &local;
      pool = &s.pool;
    }
    if (a->kind == CharKind::kDrop) continue;
    if (!s.run.empty() || a->kind == CharKind::kComplex) {  // a surviving mark is being sorted
      process_generic(p, c, at, len, s, sink);
      continue;
    }
    switch (a->kind) {
      case CharKind::kWord:
        append(s, actions_.bytes(*a, *pool), a->len, a->chars, at, len);
        track_run(s, *a, at);
        break;
      case CharKind::kMark:
        track_run(s, *a, at);
        break;
      case CharKind::kSpace:
        s.run_origin = WordScratch::kNoRun;
        flush(s, sink);
        break;
      case CharKind::kPunct:
        s.run_origin = WordScratch::kNoRun;
        flush(s, sink);
        emit_single(s, sink, actions_.bytes(*a, *pool), a->len, at, len);
        break;
      case CharKind::kIsolated:
        s.run_origin = WordScratch::kNoRun;
        flush(s, sink);
        append(s, actions_.bytes(*a, *pool), a->len, a->chars, at, len);
        flush(s, sink);
        break;
      case CharKind::kDrop:
      case CharKind::kComplex:
        break;
    }
  }
  finish_run(s, sink);
  flush(s, sink);
}

std::vector<std::string> BasicTokenizer::words(std::string_view text) const {
  struct Collect final : WordSink {
    std::vector<std::string> out;
    void on_word(const Word& w) override { out.emplace_back(w.text); }
  } collect;
  WordScratch scratch;
  split(text, 0, text.size(), scratch, collect);
  return std::move(collect.out);
}

}  // namespace ft
