// From examples to model batches: every text is tokenised once, epochs are orders of example
// indices drawn from the seed, and each batch is padded to its own longest sequence.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "model/bert_regressor.h"
#include "model/data/dataset.h"
#include "tokenizer/bert_tokenizer.h"

namespace ft {

// One split, tokenised: [CLS] text [SEP] (text_pair [SEP]) truncated to max_length.
struct EncodedSet {
  std::vector<int32_t> ids;          // every sequence back to back
  std::vector<int32_t> type_ids;     // like ids: 0 for the first segment, 1 for the second
  std::vector<int64_t> offsets;      // (n + 1) start of sequence i in ids
  std::vector<int32_t> untruncated;  // (n) tokens the text would have without truncation
  std::vector<float> targets;        // (n) NaN where the example has none
  int max_length = 0;

  int64_t size() const { return static_cast<int64_t>(untruncated.size()); }
  int32_t length(int64_t i) const {
    return static_cast<int32_t>(offsets[static_cast<size_t>(i) + 1] - offsets[static_cast<size_t>(i)]);
  }
  bool has_targets() const { return !targets.empty() && all_targets_finite; }
  bool all_targets_finite = false;  // set by encode_examples
};

// Tokenises on all cores (threads <= 0: all). An error names `source` and the example's line.
EncodedSet encode_examples(const BertTokenizer& tokenizer, const std::vector<Example>& examples, int max_length,
                           const std::string& source, int threads = 0);

// Token lengths before truncation ([CLS] and [SEP] included).
struct LengthStats {
  int64_t count = 0;
  int64_t truncated = 0;  // longer than max_length, so cut
  int max_length = 0;
  int32_t min = 0, median = 0, p90 = 0, p99 = 0, max = 0;  // nearest-rank percentiles
  double mean = 0.0;
};
LengthStats length_stats(const EncodedSet& set);
// One line: "train: 1137 texts; tokens min 20, median 301, mean 340.2, p90 610, p99 905, max 1200;
// 601 (52.9%) exceed max length 256 and are truncated".
std::string describe_lengths(const LengthStats& stats, const std::string& name);

struct BatchingOptions {
  int batch_size = 8;
  bool shuffle = true;
  // Groups texts of similar length into the same batch (less padding), inside windows of
  // 50 batches of a shuffled order; the batches are then shuffled. Changes which examples share a
  // batch, so results differ from plain shuffling.
  bool bucket_by_length = false;
};

// The micro-batches of epoch `epoch` (0-based): lists of example indices. Without shuffling, file
// order. The last batch is smaller when the batch size does not divide the set (HF's
// dataloader_drop_last = False). A pure function of (set lengths, options, seed, epoch).
std::vector<std::vector<int64_t>> epoch_batches(const EncodedSet& set, const BatchingOptions& options, uint64_t seed,
                                                int64_t epoch);
int64_t batches_per_epoch(int64_t examples, int batch_size);

// Evaluation order: indices sorted by length, longest first (least padding, and the largest
// batch comes first so memory peaks at once), cut into batches.
std::vector<std::vector<int64_t>> evaluation_batches(const EncodedSet& set, int batch_size);

// The batch of `indices`, right-padded with pad_id to the longest of them. Targets are copied
// when the set has them.
ModelBatch make_batch(const EncodedSet& set, std::span<const int64_t> indices, int32_t pad_id);

// Real (unpadded) tokens of a batch.
int64_t batch_tokens(const ModelBatch& batch);

}  // namespace ft
