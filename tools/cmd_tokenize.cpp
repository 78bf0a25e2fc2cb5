// ftengine tokenize: reads texts on stdin, one per line, and prints their token ids (and, with
// flags, tokens, byte offsets, or everything as JSON lines): for debugging and for parity scripts
// against Hugging Face. Lines are encoded in batches on all cores; output is in input order.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "tokenizer/bert_tokenizer.h"
#include "tokenizer/utf8.h"
#include "tools/commands.h"

namespace ft::tools {

namespace {

struct TokenizeOptions {
  std::string vocab, model;
  int max_length = 0;
  bool pad = false, tokens = false, offsets = false, json = false, no_special = false, cased = false, pair = false;
  std::string strip_accents = "auto";
  int threads = 0;
};

BertTokenizer make_tokenizer(const TokenizeOptions& o) {
  if (!o.model.empty()) return BertTokenizer::from_dir(o.model);
  TokenizerOptions t;
  t.lowercase = !o.cased;
  t.strip_accents = o.strip_accents == "auto" ? -1 : o.strip_accents == "yes" ? 1 : 0;
  return BertTokenizer::from_vocab(o.vocab, t);
}

// The encoding without [CLS] and the final [SEP] (single texts only).
Encoding without_specials(Encoding e) {
  size_t real = 0;
  for (int32_t m : e.attention_mask) real += m != 0;
  auto cut = [&](auto& v) {
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(real) - 1);
    v.erase(v.begin());
  };
  cut(e.ids);
  cut(e.type_ids);
  cut(e.attention_mask);
  cut(e.offsets);
  return e;
}

void print(const BertTokenizer& tok, const TokenizeOptions& o, const Encoding& e, std::string& out) {
  if (o.json) {
    nlohmann::json j;
    j["ids"] = e.ids;
    std::vector<std::string> tokens;
    for (int32_t id : e.ids) tokens.push_back(tok.id_to_token(id));
    j["tokens"] = tokens;
    j["type_ids"] = e.type_ids;
    j["attention_mask"] = e.attention_mask;
    j["offsets"] = e.offsets;
    j["untruncated_length"] = e.untruncated_length;
    out += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += '\n';
    return;
  }
  for (size_t i = 0; i < e.ids.size(); ++i) {
    if (i) out += ' ';
    out += std::to_string(e.ids[i]);
  }
  if (o.tokens) {
    out += '\t';
    for (size_t i = 0; i < e.ids.size(); ++i) {
      if (i) out += ' ';
      out += tok.id_to_token(e.ids[i]);
    }
  }
  if (o.offsets) {
    out += '\t';
    for (size_t i = 0; i < e.offsets.size(); ++i) {
      if (i) out += ' ';
      out += std::to_string(e.offsets[i].first) + ":" + std::to_string(e.offsets[i].second);
    }
  }
  out += '\n';
}

void run(const TokenizeOptions& o) {
  FT_CHECK(o.vocab.empty() != o.model.empty(), "tokenize: give exactly one of --vocab and --model");
  FT_CHECK(!(o.no_special && o.pair), "tokenize: --no-special works on single texts, not with --pair");
  FT_CHECK(!o.pad || o.max_length > 0, "tokenize: --pad needs --max-length");
  const BertTokenizer tok = make_tokenizer(o);
  std::ios::sync_with_stdio(false);
  constexpr size_t kBatch = 4096;
  std::vector<std::string> a, b;
  std::string line, out;
  int64_t line_no = 0;
  std::string error;  // the first bad line: reported after the lines before it are printed
  bool more = true;
  while (more && error.empty()) {
    a.clear();
    b.clear();
    while (a.size() < kBatch && (more = static_cast<bool>(std::getline(std::cin, line)))) {
      ++line_no;
      const size_t bad = utf8::find_invalid(line);
      if (bad != utf8::kValid) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(line[bad]));
        error = detail::concat("stdin line ", line_no, ": invalid UTF-8 at byte offset ", bad, " (byte ", hex, ")");
        break;
      }
      if (o.pair) {
        const size_t tab = line.find('\t');
        FT_CHECK(tab != std::string::npos, "stdin line ", line_no, ": --pair needs two texts separated by a tab");
        a.push_back(line.substr(0, tab));
        b.push_back(line.substr(tab + 1));
      } else {
        a.push_back(line);
      }
    }
    if (a.empty()) break;
    const std::vector<Encoding> encs = o.pair ? tok.encode_pair_batch(a, b, o.max_length, o.threads, o.pad)
                                              : tok.encode_batch(a, o.max_length, o.threads, o.pad);
    out.clear();
    for (const Encoding& e : encs) print(tok, o, o.no_special ? without_specials(e) : e, out);
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  std::fflush(stdout);
  if (!error.empty()) FT_THROW(error);
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto opt = std::make_shared<TokenizeOptions>();
  auto* cmd = app.add_subcommand(
      "tokenize",
      "Tokenize stdin, one text per line, as Hugging Face's BERT tokenizer does: prints the ids (with [CLS] and "
      "[SEP]) of each line, optionally tokens and byte offsets");
  cmd->add_option("--vocab", opt->vocab, "a vocab.txt (with --cased / --strip-accents)");
  cmd->add_option("--model", opt->model, "a model directory (tokenizer.json, or vocab.txt + tokenizer_config.json)");
  cmd->add_option("--max-length", opt->max_length, "truncate to this many tokens, specials included (0: no limit)");
  cmd->add_flag("--pad", opt->pad, "pad to --max-length with [PAD]");
  cmd->add_flag("--tokens", opt->tokens, "also print the tokens (a tab after the ids)");
  cmd->add_flag("--offsets", opt->offsets, "also print begin:end byte offsets into the line");
  cmd->add_flag("--json", opt->json, "print one JSON object per line (ids, tokens, type_ids, attention_mask, offsets)");
  cmd->add_flag("--no-special", opt->no_special, "leave out [CLS] and [SEP]");
  cmd->add_flag("--cased", opt->cased, "with --vocab: do not lower-case (do_lower_case=false)");
  cmd->add_option("--strip-accents", opt->strip_accents, "with --vocab: auto (as lower-casing), yes or no")
      ->check(CLI::IsMember({"auto", "yes", "no"}));
  cmd->add_flag("--pair", opt->pair, "each line is two texts separated by a tab: [CLS] a [SEP] b [SEP]");
  cmd->add_option("--threads", opt->threads, "threads (0: all cores)");
  cmd->callback([opt] { run(*opt); });
}

}  // namespace ft::tools
