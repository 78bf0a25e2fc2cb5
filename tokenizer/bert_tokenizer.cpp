#include "tokenizer/bert_tokenizer.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>

#include "core/error.h"
#include "core/logging.h"
#include "tokenizer/basic_tokenizer.h"
#include "tokenizer/tokenizer_files.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab.h"
#include "tokenizer/wordpiece.h"

namespace ft {

namespace {

NormalizerOptions normalizer_options(const TokenizerOptions& o) {
  NormalizerOptions n;
  n.clean_text = o.clean_text;
  n.handle_chinese_chars = o.tokenize_chinese_chars;
  n.lowercase = o.lowercase;
  n.strip_accents = o.strip_accents < 0 ? o.lowercase : o.strip_accents > 0;
  return n;
}

Vocab make_vocab(TokenizerSpec& spec) {
  if (!spec.vocab_pairs.empty()) return Vocab::from_pairs(spec.vocab_pairs, spec.source);
  return Vocab::from_tokens(std::move(spec.tokens), spec.source);
}

// Token ids and input byte spans of one text, no specials.
struct Pieces {
  std::vector<int32_t> ids;
  std::vector<std::pair<int32_t, int32_t>> offsets;
  void clear() {
    ids.clear();
    offsets.clear();
  }
};

// Buffers reused by every call on one thread: no allocation per text once warm.
struct Scratch {
  WordScratch words;
  std::vector<WordPieceMatch> matches;
  Pieces a, b;
};

Scratch& thread_scratch() {
  thread_local Scratch scratch;
  return scratch;
}

// "text" or "text 17": what an error names.
std::string text_name(int64_t index) { return index < 0 ? std::string("text") : "text " + std::to_string(index); }

}  // namespace

struct BertTokenizer::Impl {
  Impl(TokenizerSpec& spec, const TokenizerOptions& options)
      : vocab(make_vocab(spec)),
        basic(normalizer_options(options)),
        unk(vocab.id(options.unk_token)),
        wordpiece(vocab, require(options.unk_token, "unk_token", spec.source), options.continuing_subword_prefix,
                  options.max_input_chars_per_word) {}

  int32_t require(const std::string& token, const char* what, const std::string& source) const {
    const int32_t id = vocab.id(token);
    FT_CHECK(id >= 0, source, ": the ", what, " ", token, " is not in the vocabulary");
    return id;
  }

  // Token ids (no specials) of text[begin, end) into *out.
  void words_to_pieces(std::string_view text, size_t begin, size_t end, Scratch& s, Pieces* out) const {
    struct Sink final : WordSink {
      const WordPiece* wp;
      std::vector<WordPieceMatch>* matches;
      Pieces* out;
      void on_word(const Word& w) override {
        matches->clear();
        wp->tokenize(w.text, w.chars, matches);
        for (const WordPieceMatch& m : *matches) {
          out->ids.push_back(m.id);
          out->offsets.emplace_back(static_cast<int32_t>(w.input_begin(m.begin)),
                                    static_cast<int32_t>(w.input_end(m.end)));
        }
      }
    } sink;
    sink.wp = &wordpiece;
    sink.matches = &s.matches;
    sink.out = out;
    basic.split(text, begin, end, s.words, sink);
  }

  // The next added token in text at or after `from`: its position and index in `added`, or npos.
  size_t find_added(std::string_view text, size_t from, size_t* which) const {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    for (size_t i = from; i < text.size(); ++i) {
      if (single_first_byte >= 0) {
        const void* hit = std::memchr(p + i, single_first_byte, text.size() - i);
        if (!hit) return std::string_view::npos;
        i = static_cast<size_t>(static_cast<const unsigned char*>(hit) - p);
      } else if (!first_byte[p[i]]) {
        continue;
      }
      // Leftmost, then longest (`added` is sorted by decreasing length), as HF's matcher.
      for (size_t k = 0; k < added.size(); ++k) {
        if (text.compare(i, added[k].content.size(), added[k].content) == 0) {
          *which = k;
          return i;
        }
      }
    }
    return std::string_view::npos;
  }

  // Validates text and appends its pieces (no [CLS]/[SEP]) to *out.
  void tokenize(std::string_view text, int64_t index, Scratch& s, Pieces* out) const {
    FT_CHECK(text.size() < static_cast<size_t>(std::numeric_limits<int32_t>::max()), text_name(index),
             ": longer than 2 GiB");
    const size_t bad = utf8::find_invalid(text);
    if (bad != utf8::kValid) utf8::check_valid(text, text_name(index));
    size_t begin = 0;
    if (match_added) {
      size_t which = 0;
      for (size_t at; (at = find_added(text, begin, &which)) != std::string_view::npos;) {
        words_to_pieces(text, begin, at, s, out);
        const AddedToken& t = added[which];
        out->ids.push_back(t.id);
        out->offsets.emplace_back(static_cast<int32_t>(at), static_cast<int32_t>(at + t.content.size()));
        begin = at + t.content.size();
      }
    }
    words_to_pieces(text, begin, text.size(), s, out);
  }

  Vocab vocab;
  BasicTokenizer basic;
  int32_t unk;
  WordPiece wordpiece;
  int32_t cls = -1, sep = -1, pad = -1, mask = -1;
  std::vector<AddedToken> added;  // sorted by decreasing length
  bool match_added = false;
  bool first_byte[256] = {};
  int single_first_byte = -1;  // the one first byte of every added token, if they share it
};

namespace {

// Appends [CLS] a [SEP] (b [SEP]) with HF's truncation and padding.
Encoding assemble(const BertTokenizer& tok, const Pieces& a, const Pieces* b, int max_length, bool pad) {
  const size_t specials = b ? 3 : 2;
  size_t na = a.ids.size(), nb = b ? b->ids.size() : 0;
  Encoding e;
  e.untruncated_length = static_cast<int32_t>(na + nb + specials);
  FT_CHECK(!pad || max_length > 0, "encode: padding needs a positive max_length");
  if (max_length > 0) {
    FT_CHECK(static_cast<size_t>(max_length) >= specials, "encode: max_length ", max_length, " leaves no room for the ",
             specials, " special tokens");
    const size_t room = static_cast<size_t>(max_length) - specials;
    if (na + nb > room) {
      if (!b) {
        na = room;
      } else {
        // tokenizers' LongestFirst (utils/truncation.rs): the shorter side keeps what it can.
        size_t n1 = na, n2 = nb;
        const bool swap = n1 > n2;
        if (swap) std::swap(n1, n2);
        n2 = n1 > room ? n1 : std::max(n1, room - n1);
        if (n1 + n2 > room) {
          n1 = room / 2;
          n2 = n1 + room % 2;
        }
        if (swap) std::swap(n1, n2);
        na = std::min(na, n1);
        nb = std::min(nb, n2);
      }
    }
  }
  const size_t n = na + nb + specials;
  const size_t total = pad ? std::max(n, static_cast<size_t>(max_length)) : n;
  e.ids.reserve(total);
  e.type_ids.reserve(total);
  e.attention_mask.reserve(total);
  e.offsets.reserve(total);
  auto push = [&](int32_t id, int32_t type, std::pair<int32_t, int32_t> off) {
    e.ids.push_back(id);
    e.type_ids.push_back(type);
    e.attention_mask.push_back(1);
    e.offsets.push_back(off);
  };
  push(tok.cls_id(), 0, {0, 0});
  for (size_t i = 0; i < na; ++i) push(a.ids[i], 0, a.offsets[i]);
  push(tok.sep_id(), 0, {0, 0});
  if (b) {
    for (size_t i = 0; i < nb; ++i) push(b->ids[i], 1, b->offsets[i]);
    push(tok.sep_id(), 1, {0, 0});
  }
  for (size_t i = n; i < total; ++i) {
    e.ids.push_back(tok.pad_id());
    e.type_ids.push_back(0);
    e.attention_mask.push_back(0);
    e.offsets.emplace_back(0, 0);
  }
  return e;
}

}  // namespace

BertTokenizer BertTokenizer::make(TokenizerSpec spec) {
  BertTokenizer t;
  t.options_ = spec.options;
  const TokenizerOptions& o = t.options_;
  auto impl = std::make_shared<Impl>(spec, o);
  impl->cls = impl->require(o.cls_token, "cls_token", spec.source);
  impl->sep = impl->require(o.sep_token, "sep_token", spec.source);
  impl->pad = impl->require(o.pad_token, "pad_token", spec.source);
  impl->mask = impl->vocab.id(o.mask_token);

  // The tokens matched in raw text: those of the file, else (and also, for a vocab.txt) the
  // special tokens that transformers registers.
  std::vector<AddedToken> added = spec.added;
  if (!spec.added_from_file || spec.vocab_pairs.empty()) {
    for (const std::string* s : {&o.pad_token, &o.unk_token, &o.cls_token, &o.sep_token, &o.mask_token}) {
      const int32_t id = impl->vocab.id(*s);
      if (id < 0) continue;
      if (std::none_of(added.begin(), added.end(), [&](const AddedToken& a) { return a.content == *s; }))
        added.push_back(AddedToken{*s, id, true});
    }
  }
  for (const AddedToken& a : added) {
    FT_CHECK(a.id >= 0, spec.source, ": added token ", a.content, " has no id");
    FT_CHECK(utf8::find_invalid(a.content) == utf8::kValid, spec.source, ": added token is not valid UTF-8");
    const int32_t in_vocab = a.id < impl->vocab.size() ? impl->vocab.id(a.content) : -1;
    FT_CHECK(in_vocab == a.id || (a.id >= impl->vocab.size() || impl->vocab.token(a.id).empty()), spec.source,
             ": added token ", a.content, " has id ", a.id, " but the vocabulary gives that id to ",
             impl->vocab.token(a.id));
  }
  std::stable_sort(added.begin(), added.end(),
                   [](const AddedToken& x, const AddedToken& y) { return x.content.size() > y.content.size(); });
  impl->added = std::move(added);
  impl->match_added = o.match_special_tokens && !impl->added.empty();
  for (const AddedToken& a : impl->added) impl->first_byte[static_cast<unsigned char>(a.content[0])] = true;
  if (!impl->added.empty() && std::all_of(impl->added.begin(), impl->added.end(), [&](const AddedToken& a) {
        return a.content[0] == impl->added[0].content[0];
      }))
    impl->single_first_byte = static_cast<unsigned char>(impl->added[0].content[0]);
  t.impl_ = std::move(impl);
  return t;
}

BertTokenizer BertTokenizer::from_vocab(const std::string& vocab_path, const TokenizerOptions& options) {
  TokenizerSpec spec;
  spec.source = vocab_path;
  spec.options = options;
  spec.tokens = Vocab::read_txt(vocab_path);
  return make(std::move(spec));
}

BertTokenizer BertTokenizer::from_tokens(std::vector<std::string> tokens, const TokenizerOptions& options) {
  TokenizerSpec spec;
  spec.source = "vocabulary";
  spec.options = options;
  spec.tokens = std::move(tokens);
  return make(std::move(spec));
}

BertTokenizer BertTokenizer::from_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path d(dir);
  FT_CHECK(fs::is_directory(d), dir, ": not a directory");
  const fs::path json = d / "tokenizer.json", config = d / "tokenizer_config.json", vocab = d / "vocab.txt";
  TokenizerSpec spec;
  spec.source = dir;
  if (fs::exists(json)) {
    spec.source = json.string();
    read_tokenizer_json(json.string(), &spec);
    if (fs::exists(config)) read_tokenizer_config(config.string(), &spec, /*only_max_length=*/true);
    return make(std::move(spec));
  }
  FT_CHECK(fs::exists(vocab), dir, ": has neither tokenizer.json nor vocab.txt");
  spec.source = vocab.string();
  if (fs::exists(config)) {
    read_tokenizer_config(config.string(), &spec, /*only_max_length=*/false);
  } else {
    FT_LOG_WARN(dir, ": no tokenizer_config.json; using transformers' BertTokenizer defaults (do_lower_case=true)");
  }
  spec.tokens = Vocab::read_txt(vocab.string());
  return make(std::move(spec));
}

std::vector<std::string> BertTokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> out;
  for (int32_t id : tokenize_ids(text)) out.push_back(id_to_token(id));
  return out;
}

std::vector<int32_t> BertTokenizer::tokenize_ids(std::string_view text) const {
  Scratch& s = thread_scratch();
  s.a.clear();
  impl_->tokenize(text, -1, s, &s.a);
  return s.a.ids;
}

std::vector<std::string> BertTokenizer::basic_tokenize(std::string_view text) const {
  utf8::check_valid(text, "text");
  std::vector<std::string> out;
  struct Collect final : WordSink {
    std::vector<std::string>* out;
    void on_word(const Word& w) override { out->emplace_back(w.text); }
  } collect;
  collect.out = &out;
  Scratch& s = thread_scratch();
  size_t begin = 0;
  if (impl_->match_added) {
    size_t which = 0;
    for (size_t at; (at = impl_->find_added(text, begin, &which)) != std::string_view::npos;) {
      impl_->basic.split(text, begin, at, s.words, collect);
      out.push_back(impl_->added[which].content);
      begin = at + impl_->added[which].content.size();
    }
  }
  impl_->basic.split(text, begin, text.size(), s.words, collect);
  return out;
}

Encoding BertTokenizer::encode(std::string_view text, int max_length, bool pad_to_max_length) const {
  Scratch& s = thread_scratch();
  s.a.clear();
  impl_->tokenize(text, -1, s, &s.a);
  return assemble(*this, s.a, nullptr, max_length, pad_to_max_length);
}

Encoding BertTokenizer::encode_pair(std::string_view a, std::string_view b, int max_length,
                                    bool pad_to_max_length) const {
  Scratch& s = thread_scratch();
  s.a.clear();
  s.b.clear();
  impl_->tokenize(a, -1, s, &s.a);
  impl_->tokenize(b, -1, s, &s.b);
  return assemble(*this, s.a, &s.b, max_length, pad_to_max_length);
}

namespace {

// Runs fn(i) for i in [0, n) on `threads` threads (<= 0: all), in dynamic chunks. The first error
// (by index) is rethrown after every text has been tried, so the message does not depend on timing.
template <class Fn>
void parallel_for(size_t n, int threads, Fn&& fn) {
  const int t = threads > 0 ? threads : omp_get_max_threads();
  int64_t first_bad = -1;
  std::string message;
#pragma omp parallel for num_threads(t) schedule(dynamic, 16) if (t > 1 && n > 16)
  for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) {
    try {
      fn(static_cast<size_t>(i));
    } catch (const std::exception& e) {
#pragma omp critical(ft_tokenizer_batch_error)
      if (first_bad < 0 || i < first_bad) {
        first_bad = i;
        message = e.what();
      }
    }
  }
  if (first_bad >= 0) throw Error(message);
}

}  // namespace

std::vector<Encoding> BertTokenizer::encode_batch(const std::vector<std::string>& texts, int max_length, int threads,
                                                  bool pad_to_max_length) const {
  std::vector<Encoding> out(texts.size());
  parallel_for(texts.size(), threads, [&](size_t i) {
    Scratch& s = thread_scratch();
    s.a.clear();
    impl_->tokenize(texts[i], static_cast<int64_t>(i), s, &s.a);
    out[i] = assemble(*this, s.a, nullptr, max_length, pad_to_max_length);
  });
  return out;
}

std::vector<Encoding> BertTokenizer::encode_pair_batch(const std::vector<std::string>& a,
                                                       const std::vector<std::string>& b, int max_length, int threads,
                                                       bool pad_to_max_length) const {
  FT_CHECK(a.size() == b.size(), "encode_pair_batch: ", a.size(), " first texts but ", b.size(), " second texts");
  std::vector<Encoding> out(a.size());
  parallel_for(a.size(), threads, [&](size_t i) {
    Scratch& s = thread_scratch();
    s.a.clear();
    s.b.clear();
    impl_->tokenize(a[i], static_cast<int64_t>(i), s, &s.a);
    impl_->tokenize(b[i], static_cast<int64_t>(i), s, &s.b);
    out[i] = assemble(*this, s.a, &s.b, max_length, pad_to_max_length);
  });
  return out;
}

int32_t BertTokenizer::token_to_id(std::string_view token) const {
  const int32_t id = impl_->vocab.id(token);
  if (id >= 0) return id;
  for (const AddedToken& a : impl_->added)
    if (a.content == token) return a.id;
  return -1;
}

const std::string& BertTokenizer::id_to_token(int32_t id) const {
  if (id >= 0 && id < impl_->vocab.size() && !impl_->vocab.token(id).empty()) return impl_->vocab.token(id);
  for (const AddedToken& a : impl_->added)
    if (a.id == id) return a.content;
  return impl_->vocab.token(id);  // throws for ids outside the vocabulary
}

int32_t BertTokenizer::vocab_size() const {
  int32_t n = impl_->vocab.size();
  for (const AddedToken& a : impl_->added) n = std::max(n, a.id + 1);
  return n;
}

int32_t BertTokenizer::pad_id() const { return impl_->pad; }
int32_t BertTokenizer::cls_id() const { return impl_->cls; }
int32_t BertTokenizer::sep_id() const { return impl_->sep; }
int32_t BertTokenizer::unk_id() const { return impl_->unk; }
int32_t BertTokenizer::mask_id() const { return impl_->mask; }
const std::vector<AddedToken>& BertTokenizer::added_tokens() const { return impl_->added; }

}  // namespace ft
