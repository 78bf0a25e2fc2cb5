#include "tokenizer/vocab.h"

#include <algorithm>
#include <deque>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/text_file.h"
#include "tokenizer/utf8.h"

namespace ft {

Vocab Vocab::from_tokens(std::vector<std::string> tokens, std::string_view source) {
  FT_CHECK(!tokens.empty(), source, ": the vocabulary is empty");
  FT_CHECK(tokens.size() < (size_t{1} << 31), source, ": too many tokens");
  Vocab v;
  v.tokens_ = std::move(tokens);
  std::vector<std::pair<std::string_view, int32_t>> entries;
  entries.reserve(v.tokens_.size());
  for (size_t i = 0; i < v.tokens_.size(); ++i) {
    const size_t bad = utf8::find_invalid(v.tokens_[i]);
    FT_CHECK(bad == utf8::kValid, source, ": token ", i, " (line ", i + 1, ") is not valid UTF-8 (byte offset ", bad,
             ")");
    entries.emplace_back(v.tokens_[i], static_cast<int32_t>(i));
  }
  v.build_trie(std::move(entries), source);
  return v;
}

Vocab Vocab::from_pairs(const std::vector<std::pair<std::string, int32_t>>& pairs, std::string_view source) {
  FT_CHECK(!pairs.empty(), source, ": the vocabulary is empty");
  int32_t max_id = -1;
  for (const auto& [token, id] : pairs) {
    FT_CHECK(id >= 0 && id < (int32_t{1} << 30), source, ": token ", token, " has an invalid id ", id);
    max_id = std::max(max_id, id);
  }
  Vocab v;
  v.tokens_.assign(static_cast<size_t>(max_id) + 1, std::string());
  std::vector<bool> seen(v.tokens_.size(), false);
  for (const auto& [token, id] : pairs) {
    FT_CHECK(!seen[static_cast<size_t>(id)], source, ": id ", id, " is given to both ", v.tokens_[id], " and ", token);
    FT_CHECK(utf8::find_invalid(token) == utf8::kValid, source, ": token with id ", id, " is not valid UTF-8");
    seen[static_cast<size_t>(id)] = true;
    v.tokens_[static_cast<size_t>(id)] = token;
  }
  std::vector<std::pair<std::string_view, int32_t>> entries;
  entries.reserve(pairs.size());
  for (const auto& [token, id] : pairs) entries.emplace_back(v.tokens_[static_cast<size_t>(id)], id);
  // Keys are unique in a JSON object; order the entries by id so "last wins" is well defined.
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  v.build_trie(std::move(entries), source);
  return v;
}

std::vector<std::string> Vocab::read_txt(const std::string& path) {
  const std::string data = read_text_file(path, "vocabulary file");
  std::vector<std::string> tokens;
  size_t start = 0;
  while (start < data.size()) {
    size_t nl = data.find('\n', start);
    if (nl == std::string::npos) nl = data.size();
    tokens.emplace_back(data, start, nl - start);
    start = nl + 1;
  }
  return tokens;
}

int32_t Vocab::walk(int32_t state, std::string_view bytes) const {
  for (unsigned char b : bytes) {
    if (state == kNone) return kNone;
    const int32_t next = step(state, b);
    if (!valid(state, next)) return kNone;
    state = next;
  }
  return state;
}

int32_t Vocab::id(std::string_view token) const {
  const int32_t s = walk(kRoot, token);
  return s == kNone ? -1 : value(s);
}

const std::string& Vocab::token(int32_t id) const {
  FT_CHECK(id >= 0 && id < size(), "token id ", id, " is outside the vocabulary (size ", size(), ")");
  return tokens_[static_cast<size_t>(id)];
}

void Vocab::build_trie(std::vector<std::pair<std::string_view, int32_t>> entries, std::string_view source) {
  // Sort by bytes (char_traits<char> compares as unsigned char); among equal tokens keep the last.
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<std::string_view, int32_t>> keys;
  keys.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i + 1 < entries.size() && entries[i + 1].first == entries[i].first) continue;
    keys.push_back(entries[i]);
  }
  FT_CHECK(!keys.empty(), source, ": the vocabulary is empty");

  nodes_.assign(1024, Node{});
  nodes_[kRoot].check = -2;  // the root is nobody's child but its slot is taken
  // Free slots form a doubly linked list (next_free/prev_free; -1 ends it) so the search for a base
  // visits only free slots. `tail` is the last slot in the list; slots past the array are free.
  std::vector<int32_t> next_free, prev_free;
  auto grow = [&](size_t n) {
    const size_t old = next_free.size();
    if (n <= old) return;
    n = std::max(n, 2 * old);
    if (nodes_.size() < n) nodes_.resize(n);
    next_free.resize(n);
    prev_free.resize(n);
    for (size_t i = old; i < n; ++i) {
      next_free[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
      prev_free[i] = static_cast<int32_t>(i) - 1;
    }
    if (old > 0) {
      // Link the old list's last free slot to the new range.
      int32_t last = -1;
      for (size_t i = old; i-- > 1;) {
        if (nodes_[i].check == -1) {
          last = static_cast<int32_t>(i);
          break;
        }
      }
      prev_free[old] = last;
      if (last >= 0) next_free[static_cast<size_t>(last)] = static_cast<int32_t>(old);
    }
  };
  int32_t head = 1;  // first free slot
  grow(1024);
  prev_free[1] = -1;
  auto take = [&](int32_t i) {
    const int32_t prev = prev_free[static_cast<size_t>(i)], next = next_free[static_cast<size_t>(i)];
    if (prev >= 0) next_free[static_cast<size_t>(prev)] = next;
    if (next >= 0) prev_free[static_cast<size_t>(next)] = prev;
    if (head == i) head = next;
  };
  int32_t max_base = 0;

  struct Task {
    int32_t state;
    size_t lo, hi, depth;
  };
  std::deque<Task> queue{{kRoot, 0, keys.size(), 0}};
  std::vector<std::pair<unsigned char, std::pair<size_t, size_t>>> children;
  while (!queue.empty()) {
    Task t = queue.front();
    queue.pop_front();
    if (keys[t.lo].first.size() == t.depth) {  // the shortest key in the range ends here
      nodes_[static_cast<size_t>(t.state)].value = keys[t.lo].second;
      ++t.lo;
    }
    if (t.lo == t.hi) continue;  // a leaf: base 0 reaches only slots whose parent is someone else
    children.clear();
    for (size_t i = t.lo; i < t.hi;) {
      const auto label = static_cast<unsigned char>(keys[i].first[t.depth]);
      size_t j = i + 1;
      while (j < t.hi && static_cast<unsigned char>(keys[j].first[t.depth]) == label) ++j;
      children.push_back({label, {i, j}});
      i = j;
    }
    // The first free slot q (> the first label) such that every child slot base + label is free.
    int32_t base = -1;
    for (int32_t q = head;; q = next_free[static_cast<size_t>(q)]) {
      if (q < 0 || static_cast<size_t>(q) + 257 > next_free.size()) {
        grow(next_free.size() + 257 + (q < 0 ? 0 : 1));
        if (q < 0) q = head;  // unreachable with a non-empty list; keeps the loop well defined
      }
      if (q <= static_cast<int32_t>(children[0].first)) continue;
      const int32_t b = q - children[0].first;
      bool fits = true;
      for (size_t k = 1; k < children.size() && fits; ++k)
        fits = nodes_[static_cast<size_t>(b) + children[k].first].check == -1;
      if (fits) {
        base = b;
        break;
      }
    }
    nodes_[static_cast<size_t>(t.state)].base = base;
    max_base = std::max(max_base, base);
    for (const auto& c : children) {
      const int32_t child = base + c.first;
      take(child);
      nodes_[static_cast<size_t>(child)].check = t.state;
      queue.push_back({child, c.second.first, c.second.second, t.depth + 1});
    }
  }
  // step() may look at base + 255 for any state, leaves (base 0) included.
  nodes_.resize(std::max(nodes_.size(), static_cast<size_t>(max_base) + 257));
}

}  // namespace ft
