#include "tokenizer/tokenizer_files.h"

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/text_file.h"

namespace ft {

namespace {

using nlohmann::json;

json read_json(const std::string& path) { return read_json_file(path, "tokenizer file"); }

// A special token in tokenizer_config.json: a string, or an AddedToken object with "content".
bool token_string(const json& v, std::string* out) {
  if (v.is_string()) {
    *out = v.get<std::string>();
    return true;
  }
  if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    *out = v["content"].get<std::string>();
    return true;
  }
  return false;
}

bool get_bool(const json& obj, const char* key, const std::string& path, bool fallback) {
  if (!obj.contains(key) || obj[key].is_null()) return fallback;
  FT_CHECK(obj[key].is_boolean(), path, ": ", key, " must be true or false");
  return obj[key].get<bool>();
}

// An added token as ftengine can honour it: matched exactly in the raw text.
AddedToken parse_added_token(const json& t, int32_t id, const std::string& path) {
  FT_CHECK(t.is_object() && t.contains("content") && t["content"].is_string(), path,
           ": an added token has no \"content\" string");
  AddedToken a;
  a.content = t["content"].get<std::string>();
  a.id = id;
  a.special = get_bool(t, "special", path, false);
  FT_CHECK(!a.content.empty(), path, ": added token ", id, " is empty");
  for (const char* flag : {"lstrip", "rstrip", "single_word"})
    FT_CHECK(!get_bool(t, flag, path, false), path, ": added token ", a.content, " has ", flag,
             "=true, which ftengine does not implement");
  // transformers' default for special tokens is normalized=false; for others true.
  FT_CHECK(!get_bool(t, "normalized", path, !a.special), path, ": added token ", a.content,
           " is matched after normalization (normalized=true), which ftengine does not implement");
  return a;
}

std::string template_special(const json& piece, int type_id, const std::string& path) {
  FT_CHECK(piece.is_object() && piece.contains("SpecialToken"), path,
           ": post_processor template is not BERT's [CLS] $A [SEP] (expected a special token)");
  const json& s = piece["SpecialToken"];
  FT_CHECK(s.value("type_id", -1) == type_id, path, ": post_processor template has an unexpected type_id");
  return s.at("id").get<std::string>();
}

void template_sequence(const json& piece, const char* name, int type_id, const std::string& path) {
  FT_CHECK(piece.is_object() && piece.contains("Sequence") && piece["Sequence"].value("id", "") == name &&
               piece["Sequence"].value("type_id", -1) == type_id,
           path, ": post_processor template is not BERT's [CLS] $A [SEP] $B [SEP]");
}

}  // namespace

void read_tokenizer_config(const std::string& path, TokenizerSpec* spec, bool only_max_length) {
  const json c = read_json(path);
  FT_CHECK(c.is_object(), path, ": expected a JSON object");
  TokenizerOptions& o = spec->options;
  if (c.contains("model_max_length") && c["model_max_length"].is_number()) {
    const double m = c["model_max_length"].get<double>();
    // transformers writes 1e30 for "no limit known"; keep ftengine's default then.
    if (m >= 1 && m < 1e9) o.model_max_length = static_cast<int>(m);
  }
  if (only_max_length) return;
  o.lowercase = get_bool(c, "do_lower_case", path, o.lowercase);
  if (c.contains("strip_accents")) {
    o.strip_accents = c["strip_accents"].is_null() ? -1 : (get_bool(c, "strip_accents", path, false) ? 1 : 0);
  }
  o.tokenize_chinese_chars = get_bool(c, "tokenize_chinese_chars", path, o.tokenize_chinese_chars);
  const std::pair<const char*, std::string*> names[] = {{"unk_token", &o.unk_token},
                                                        {"cls_token", &o.cls_token},
                                                        {"sep_token", &o.sep_token},
                                                        {"pad_token", &o.pad_token},
                                                        {"mask_token", &o.mask_token}};
  for (const auto& [key, field] : names) {
    if (c.contains(key) && !c[key].is_null())
      FT_CHECK(token_string(c[key], field), path, ": ", key, " must be a string or an AddedToken");
  }
  if (c.contains("added_tokens_decoder") && c["added_tokens_decoder"].is_object()) {
    for (const auto& [id_text, t] : c["added_tokens_decoder"].items()) {
      int32_t id = -1;
      try {
        id = static_cast<int32_t>(std::stol(id_text));
      } catch (const std::exception&) {
        FT_THROW(path, ": added_tokens_decoder key ", id_text, " is not a token id");
      }
      spec->added.push_back(parse_added_token(t, id, path));
    }
    spec->added_from_file = !spec->added.empty();
  }
}

void read_tokenizer_json(const std::string& path, TokenizerSpec* spec) {
  const json j = read_json(path);
  FT_CHECK(j.is_object() && j.contains("model") && j["model"].is_object(), path, ": no \"model\" object");
  TokenizerOptions& o = spec->options;

  const json& model = j["model"];
  const std::string type = model.value("type", "");
  FT_CHECK(type == "WordPiece", path, ": model type is ", type.empty() ? "missing" : type,
           "; ftengine implements WordPiece (BERT) only");
  FT_CHECK(model.contains("vocab") && model["vocab"].is_object(), path, ": model.vocab must be an object");
  spec->vocab_pairs.clear();
  spec->vocab_pairs.reserve(model["vocab"].size());
  for (const auto& [token, id] : model["vocab"].items()) {
    FT_CHECK(id.is_number_integer(), path, ": model.vocab[", token, "] is not an integer id");
    spec->vocab_pairs.emplace_back(token, id.get<int32_t>());
  }
  if (model.contains("unk_token") && model["unk_token"].is_string()) o.unk_token = model["unk_token"];
  if (model.contains("continuing_subword_prefix") && model["continuing_subword_prefix"].is_string())
    o.continuing_subword_prefix = model["continuing_subword_prefix"];
  if (model.contains("max_input_chars_per_word") && model["max_input_chars_per_word"].is_number_integer())
    o.max_input_chars_per_word = model["max_input_chars_per_word"];

  const json normalizer = j.value("normalizer", json());
  if (normalizer.is_null()) {
    o.clean_text = false;
    o.tokenize_chinese_chars = false;
    o.lowercase = false;
    o.strip_accents = 0;
  } else {
    FT_CHECK(normalizer.value("type", "") == "BertNormalizer", path, ": normalizer ", normalizer.value("type", "?"),
             " is not supported (ftengine implements BertNormalizer)");
    o.clean_text = get_bool(normalizer, "clean_text", path, true);
    o.tokenize_chinese_chars = get_bool(normalizer, "handle_chinese_chars", path, true);
    o.lowercase = get_bool(normalizer, "lowercase", path, true);
    if (!normalizer.contains("strip_accents") || normalizer["strip_accents"].is_null())
      o.strip_accents = -1;
    else
      o.strip_accents = get_bool(normalizer, "strip_accents", path, false) ? 1 : 0;
  }

  const json pre = j.value("pre_tokenizer", json());
  FT_CHECK(pre.is_object() && pre.value("type", "") == "BertPreTokenizer", path, ": pre_tokenizer ",
           pre.is_object() ? pre.value("type", "?") : std::string("null"),
           " is not supported (ftengine implements BertPreTokenizer)");

  const json post = j.value("post_processor", json());
  FT_CHECK(post.is_object(), path, ": no post_processor: ftengine needs the [CLS] text [SEP] template");
  const std::string post_type = post.value("type", "");
  if (post_type == "TemplateProcessing") {
    const json& single = post.at("single");
    const json& pair = post.at("pair");
    FT_CHECK(single.is_array() && single.size() == 3 && pair.is_array() && pair.size() == 5, path,
             ": post_processor template is not BERT's [CLS] $A [SEP] / [CLS] $A [SEP] $B [SEP]");
    o.cls_token = template_special(single[0], 0, path);
    template_sequence(single[1], "A", 0, path);
    o.sep_token = template_special(single[2], 0, path);
    FT_CHECK(template_special(pair[0], 0, path) == o.cls_token, path, ": pair template starts differently");
    template_sequence(pair[1], "A", 0, path);
    FT_CHECK(template_special(pair[2], 0, path) == o.sep_token, path, ": pair template separator differs");
    template_sequence(pair[3], "B", 1, path);
    FT_CHECK(template_special(pair[4], 1, path) == o.sep_token, path, ": pair template separator differs");
  } else if (post_type == "BertProcessing") {
    o.cls_token = post.at("cls").at(0).get<std::string>();
    o.sep_token = post.at("sep").at(0).get<std::string>();
  } else {
    FT_THROW(path, ": post_processor ", post_type, " is not supported (BERT's TemplateProcessing or BertProcessing)");
  }

  if (j.contains("padding") && j["padding"].is_object() && j["padding"].contains("pad_token"))
    o.pad_token = j["padding"]["pad_token"].get<std::string>();

  spec->added.clear();
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    for (const json& t : j["added_tokens"]) {
      FT_CHECK(t.contains("id") && t["id"].is_number_integer(), path, ": an added token has no integer id");
      spec->added.push_back(parse_added_token(t, t["id"].get<int32_t>(), path));
    }
  }
  spec->added_from_file = true;
}

}  // namespace ft
