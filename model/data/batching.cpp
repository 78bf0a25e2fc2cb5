#include "model/data/batching.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include <omp.h>

#include "core/error.h"
#include "model/data/permutation.h"

namespace ft {

EncodedSet encode_examples(const BertTokenizer& tokenizer, const std::vector<Example>& examples, int max_length,
                           const std::string& source, int threads) {
  FT_CHECK(max_length >= 3 || max_length <= 0, "max length ", max_length,
           " is too short: [CLS], [SEP] and at least one token need 3");
  const auto n = static_cast<int64_t>(examples.size());
  std::vector<Encoding> enc(static_cast<size_t>(n));
  std::vector<std::string> errors(static_cast<size_t>(n));
  const int nthreads = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 16) num_threads(nthreads)
  for (int64_t i = 0; i < n; ++i) {
    const Example& ex = examples[static_cast<size_t>(i)];
    try {
      enc[static_cast<size_t>(i)] = ex.text_pair.empty() ? tokenizer.encode(ex.text, max_length)
                                                         : tokenizer.encode_pair(ex.text, ex.text_pair, max_length);
    } catch (const std::exception& e) {
      errors[static_cast<size_t>(i)] = e.what();
    }
  }
  EncodedSet set;
  set.max_length = max_length;
  set.offsets.reserve(static_cast<size_t>(n) + 1);
  set.offsets.push_back(0);
  for (int64_t i = 0; i < n; ++i) {
    const Example& ex = examples[static_cast<size_t>(i)];
    FT_CHECK(errors[static_cast<size_t>(i)].empty(), source, ": line ", ex.line,
             ": cannot tokenise the text: ", errors[static_cast<size_t>(i)]);
    Encoding& e = enc[static_cast<size_t>(i)];
    set.ids.insert(set.ids.end(), e.ids.begin(), e.ids.end());
    if (e.type_ids.size() == e.ids.size()) set.type_ids.insert(set.type_ids.end(), e.type_ids.begin(), e.type_ids.end());
    else set.type_ids.insert(set.type_ids.end(), e.ids.size(), 0);
    set.offsets.push_back(static_cast<int64_t>(set.ids.size()));
    set.untruncated.push_back(std::max<int32_t>(e.untruncated_length, static_cast<int32_t>(e.ids.size())));
    set.targets.push_back(std::isfinite(ex.target) ? static_cast<float>(ex.target)
                                                   : std::numeric_limits<float>::quiet_NaN());
    e = Encoding{};  // free as we go
  }
  set.all_targets_finite = std::all_of(set.targets.begin(), set.targets.end(), [](float t) { return std::isfinite(t); });
  return set;
}

LengthStats length_stats(const EncodedSet& set) {
  LengthStats s;
  s.count = set.size();
  s.max_length = set.max_length;
  if (s.count == 0) return s;
  std::vector<int32_t> len(set.untruncated);
  std::sort(len.begin(), len.end());
  // Nearest-rank percentile: the smallest length with at least q of the texts at or below it.
  auto rank = [&](double q) {
    const auto k = static_cast<int64_t>(std::ceil(q * static_cast<double>(s.count)));
    return len[static_cast<size_t>(std::clamp<int64_t>(k, 1, s.count) - 1)];
  };
  s.min = len.front();
  s.max = len.back();
  s.median = rank(0.5);
  s.p90 = rank(0.9);
  s.p99 = rank(0.99);
  double sum = 0.0;
  for (int32_t l : len) {
    sum += l;
    if (set.max_length > 0 && l > set.max_length) ++s.truncated;
  }
  s.mean = sum / static_cast<double>(s.count);
  return s;
}

std::string describe_lengths(const LengthStats& s, const std::string& name) {
  char buf[512];
  const double pct = s.count ? 100.0 * static_cast<double>(s.truncated) / static_cast<double>(s.count) : 0.0;
  std::snprintf(buf, sizeof buf,
                "%s: %lld texts; tokens min %d, median %d, mean %.1f, p90 %d, p99 %d, max %d; "
                "%lld (%.1f%%) exceed max length %d and are truncated",
                name.c_str(), static_cast<long long>(s.count), s.min, s.median, s.mean, s.p90, s.p99, s.max,
                static_cast<long long>(s.truncated), pct, s.max_length);
  return buf;
}

int64_t batches_per_epoch(int64_t examples, int batch_size) {
  FT_CHECK(batch_size >= 1, "batch size ", batch_size, " must be at least 1");
  return (examples + batch_size - 1) / batch_size;
}

namespace {
std::vector<std::vector<int64_t>> cut(const std::vector<int64_t>& order, int batch_size) {
  std::vector<std::vector<int64_t>> batches;
  for (size_t b = 0; b < order.size(); b += static_cast<size_t>(batch_size)) {
    const size_t e = std::min(order.size(), b + static_cast<size_t>(batch_size));
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(b), order.begin() + static_cast<std::ptrdiff_t>(e));
  }
  return batches;
}
}  // namespace

std::vector<std::vector<int64_t>> epoch_batches(const EncodedSet& set, const BatchingOptions& o, uint64_t seed,
                                                int64_t epoch) {
  FT_CHECK(o.batch_size >= 1, "batch size ", o.batch_size, " must be at least 1");
  FT_CHECK(epoch >= 0 && epoch <= std::numeric_limits<uint32_t>::max(), "epoch ", epoch, " out of range");
  const int64_t n = set.size();
  std::vector<int64_t> order;
  if (o.shuffle) {
    order = random_permutation(n, seed, kShuffleStream, static_cast<uint32_t>(epoch));
  } else {
    order.resize(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), int64_t{0});
  }
  if (!o.bucket_by_length) return cut(order, o.batch_size);
  const size_t window = static_cast<size_t>(o.batch_size) * 50;
  for (size_t w = 0; w < order.size(); w += window) {
    const auto first = order.begin() + static_cast<std::ptrdiff_t>(w);
    const auto last = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), w + window));
    std::stable_sort(first, last, [&](int64_t a, int64_t b) { return set.length(a) > set.length(b); });
  }
  std::vector<std::vector<int64_t>> batches = cut(order, o.batch_size);
  if (!o.shuffle) return batches;
  const std::vector<int64_t> batch_order =
      random_permutation(static_cast<int64_t>(batches.size()), seed, kBucketStream, static_cast<uint32_t>(epoch));
  std::vector<std::vector<int64_t>> shuffled;
  shuffled.reserve(batches.size());
  for (int64_t k : batch_order) shuffled.push_back(std::move(batches[static_cast<size_t>(k)]));
  return shuffled;
}

std::vector<std::vector<int64_t>> evaluation_batches(const EncodedSet& set, int batch_size) {
  FT_CHECK(batch_size >= 1, "batch size ", batch_size, " must be at least 1");
  std::vector<int64_t> order(static_cast<size_t>(set.size()));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return set.length(a) > set.length(b); });
  return cut(order, batch_size);
}

ModelBatch make_batch(const EncodedSet& set, std::span<const int64_t> indices, int32_t pad_id) {
  FT_CHECK(!indices.empty(), "an empty batch");
  ModelBatch b;
  b.B = static_cast<int>(indices.size());
  for (int64_t i : indices) {
    FT_CHECK(i >= 0 && i < set.size(), "batch index ", i, " outside the set of ", set.size());
    b.T = std::max(b.T, set.length(i));
  }
  b.input_ids.assign(static_cast<size_t>(b.B) * static_cast<size_t>(b.T), pad_id);  // (B, T)
  b.token_type_ids.assign(static_cast<size_t>(b.B) * static_cast<size_t>(b.T), 0);  // (B, T)
  b.lengths.resize(static_cast<size_t>(b.B));                                        // (B)
  const bool targets = set.has_targets();
  for (int r = 0; r < b.B; ++r) {
    const int64_t i = indices[static_cast<size_t>(r)];
    const int32_t len = set.length(i);
    const auto src = static_cast<std::ptrdiff_t>(set.offsets[static_cast<size_t>(i)]);
    const size_t dst = static_cast<size_t>(r) * static_cast<size_t>(b.T);
    std::copy_n(set.ids.begin() + src, len, b.input_ids.begin() + static_cast<std::ptrdiff_t>(dst));
    std::copy_n(set.type_ids.begin() + src, len, b.token_type_ids.begin() + static_cast<std::ptrdiff_t>(dst));
    b.lengths[static_cast<size_t>(r)] = len;
    if (targets) b.targets.push_back(set.targets[static_cast<size_t>(i)]);  // (B)
  }
  return b;
}

int64_t batch_tokens(const ModelBatch& batch) {
  int64_t n = 0;
  for (int32_t l : batch.lengths) n += l;
  return n;
}

}  // namespace ft
