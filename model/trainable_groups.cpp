// parse_trainable: which parameter groups train, from the --train and --freeze lists.
#include "model/trainable_groups.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "core/error.h"

namespace ft {

namespace {

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

bool parse_index(const std::string& s, int* out) {
  if (s.empty() || s.size() > 9) return false;
  for (char ch : s)
    if (!std::isdigit(static_cast<unsigned char>(ch))) return false;
  *out = std::stoi(s);
  return true;
}

// Marks in `flags` the groups that `item` names. Group order: embeddings, encoder.0..L-1, pooler, head.
void mark(const std::string& item, const std::string& flag, int layers, std::vector<bool>& flags) {
  const auto valid = [&] {
    return detail::concat("valid names: all, embeddings, encoder, encoder.N, encoder.A-B (N, A, B in 0..",
                          layers - 1, "), pooler, head");
  };
  if (item == "all") {
    flags.assign(flags.size(), true);
    return;
  }
  if (item == "embeddings") {
    flags[0] = true;
    return;
  }
  if (item == "pooler") {
    flags[1 + layers] = true;
    return;
  }
  if (item == "head") {
    flags[2 + layers] = true;
    return;
  }
  if (item == "encoder") {
    for (int l = 0; l < layers; ++l) flags[1 + l] = true;
    return;
  }
  if (item.rfind("encoder.", 0) == 0) {
    const std::string range = item.substr(8);
    const size_t dash = range.find('-');
    int first = 0, last = 0;
    const bool ok = dash == std::string::npos
                        ? parse_index(range, &first) && ((last = first), true)
                        : parse_index(range.substr(0, dash), &first) && parse_index(range.substr(dash + 1), &last);
    FT_CHECK(ok, flag, " \"", item, "\": expected encoder.N or encoder.A-B; ", valid());
    FT_CHECK(first <= last, flag, " \"", item, "\": the range is empty (", first, " > ", last, ")");
    FT_CHECK(last < layers, flag, " \"", item, "\": the model has ", layers, " encoder layers; ", valid());
    for (int l = first; l <= last; ++l) flags[1 + l] = true;
    return;
  }
  FT_THROW(flag, " \"", item, "\": unknown parameter group; ", valid());
}

std::vector<bool> parse_list(const std::string& list, const std::string& flag, int layers, size_t groups) {
  std::vector<bool> flags(groups, false);
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string item = trim(list.substr(start, comma - start));
    FT_CHECK(!item.empty(), flag, " \"", list, "\": empty name in the list");
    mark(item, flag, layers, flags);
    start = comma + 1;
  }
  return flags;
}

}  // namespace

TrainableGroups parse_trainable(const BertParamLayout& layout, const std::string& train_list,
                                const std::string& freeze_list) {
  const size_t groups = layout.groups.size();
  FT_CHECK(groups >= 3, "parameter layout: expected embeddings, encoder layers, pooler and head groups");
  const int layers = static_cast<int>(groups) - 3;
  TrainableGroups trainable =
      trim(train_list).empty() ? TrainableGroups(groups, true) : parse_list(train_list, "--train", layers, groups);
  if (!trim(freeze_list).empty()) {
    const std::vector<bool> frozen = parse_list(freeze_list, "--freeze", layers, groups);
    for (size_t i = 0; i < groups; ++i)
      if (frozen[i]) trainable[i] = false;
  }
  bool any = false;
  for (bool t : trainable) any = any || t;
  FT_CHECK(any, "--train \"", train_list, "\" and --freeze \"", freeze_list, "\" leave no parameter group to train");
  return trainable;
}

}  // namespace ft
