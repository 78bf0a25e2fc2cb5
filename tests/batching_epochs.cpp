// Tokenising once, seeded epoch orders, padding to the batch's longest, length statistics.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <set>

#include "core/error.h"
#include "model/data/batching.h"
#include "model/data/permutation.h"
#include "tests/support/test_data.h"

using namespace ft;

namespace {

// A set with the given sequence lengths: token t of sequence i is 5 + (i + t) % 50.
EncodedSet make_set(const std::vector<int32_t>& lengths) {
  EncodedSet s;
  s.offsets.push_back(0);
  for (size_t i = 0; i < lengths.size(); ++i) {
    for (int t = 0; t < lengths[i]; ++t) {
      s.ids.push_back(5 + static_cast<int32_t>((i + static_cast<size_t>(t)) % 50));
      s.type_ids.push_back(t >= lengths[i] / 2 ? 1 : 0);
    }
    s.offsets.push_back(static_cast<int64_t>(s.ids.size()));
    s.untruncated.push_back(lengths[i]);
    s.targets.push_back(0.5f * static_cast<float>(i) - 3.0f);
  }
  s.all_targets_finite = true;
  s.max_length = 64;
  return s;
}

std::vector<int32_t> varied_lengths(int n) {
  std::vector<int32_t> l;
  for (int i = 0; i < n; ++i) l.push_back(3 + (i * 37) % 40);
  return l;
}

}  // namespace

TEST(Permutation, IsAPermutationDeterministicAndSeedDependent) {
  const auto a = random_permutation(1000, 42, kShuffleStream, 0);
  const auto b = random_permutation(1000, 42, kShuffleStream, 0);
  const auto c = random_permutation(1000, 42, kShuffleStream, 1);
  const auto d = random_permutation(1000, 43, kShuffleStream, 0);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, d);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) EXPECT_EQ(sorted[static_cast<size_t>(i)], i);
  EXPECT_TRUE(random_permutation(0, 1, kShuffleStream, 0).empty());
  EXPECT_EQ(random_permutation(1, 1, kShuffleStream, 0), std::vector<int64_t>{0});
}

// Where element 0 lands over 6000 shuffles of 6 elements: uniform (chi-square, 5 degrees of freedom;
// 25 is beyond the 99.99th percentile, so a fair shuffle fails this about once in 10^4 runs -- and the
// draws are deterministic, so it either always passes or always fails).
TEST(Permutation, FirstElementIsUniform) {
  std::vector<int> counts(6, 0);
  for (uint32_t k = 0; k < 6000; ++k) {
    const auto p = random_permutation(6, 9, kShuffleStream, k);
    ++counts[static_cast<size_t>(std::find(p.begin(), p.end(), 0) - p.begin())];
  }
  double chi2 = 0;
  for (int c : counts) chi2 += (c - 1000.0) * (c - 1000.0) / 1000.0;
  EXPECT_LT(chi2, 25.0);
}

TEST(Permutation, BelowStaysInRange) {
  PhiloxSequence rng(5, kShuffleStream, 0);
  for (uint64_t bound : {1ull, 2ull, 3ull, 7ull, 1000ull, (1ull << 63) + 5}) {
    for (int i = 0; i < 200; ++i) EXPECT_LT(rng.below(bound), bound);
  }
  EXPECT_THROW(rng.below(0), Error);
}

TEST(EpochBatches, CoverEverythingOnceAndLastBatchIsSmaller) {
  const EncodedSet set = make_set(varied_lengths(21));
  BatchingOptions o;
  o.batch_size = 4;
  const auto batches = epoch_batches(set, o, 42, 0);
  ASSERT_EQ(batches.size(), 6u);
  EXPECT_EQ(batches_per_epoch(21, 4), 6);
  EXPECT_EQ(batches.back().size(), 1u);
  std::multiset<int64_t> seen;
  for (const auto& b : batches) seen.insert(b.begin(), b.end());
  EXPECT_EQ(seen.size(), 21u);
  for (int64_t i = 0; i < 21; ++i) EXPECT_EQ(seen.count(i), 1u);
  // Same seed and epoch: same batches; next epoch: another order.
  EXPECT_EQ(epoch_batches(set, o, 42, 0), batches);
  EXPECT_NE(epoch_batches(set, o, 42, 1), batches);
}

TEST(EpochBatches, NoShuffleIsFileOrder) {
  const EncodedSet set = make_set(varied_lengths(10));
  BatchingOptions o;
  o.batch_size = 3;
  o.shuffle = false;
  const auto b0 = epoch_batches(set, o, 42, 0), b1 = epoch_batches(set, o, 42, 5);
  EXPECT_EQ(b0, b1);
  EXPECT_EQ(b0[0], (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(b0[3], (std::vector<int64_t>{9}));
}

TEST(EpochBatches, BucketingGroupsSimilarLengths) {
  const EncodedSet set = make_set(varied_lengths(400));
  BatchingOptions plain, bucket;
  plain.batch_size = bucket.batch_size = 8;
  bucket.bucket_by_length = true;
  const auto padded_tokens = [&](const std::vector<std::vector<int64_t>>& batches) {
    int64_t n = 0;
    for (const auto& b : batches) {
      int32_t longest = 0;
      for (int64_t i : b) longest = std::max(longest, set.length(i));
      n += longest * static_cast<int64_t>(b.size());
    }
    return n;
  };
  const auto pb = epoch_batches(set, plain, 1, 0), bb = epoch_batches(set, bucket, 1, 0);
  std::multiset<int64_t> seen;
  for (const auto& b : bb) seen.insert(b.begin(), b.end());
  EXPECT_EQ(seen.size(), 400u);
  EXPECT_LT(padded_tokens(bb), padded_tokens(pb) * 3 / 4);  // far less padding
  EXPECT_EQ(epoch_batches(set, bucket, 1, 0), bb);
  EXPECT_NE(epoch_batches(set, bucket, 1, 1), bb);
}

TEST(MakeBatch, PadsToTheLongestOfTheBatch) {
  const EncodedSet set = make_set({5, 9, 3});
  const std::vector<int64_t> idx = {2, 0};
  const ModelBatch b = make_batch(set, idx, /*pad_id=*/0);
  EXPECT_EQ(b.B, 2);
  EXPECT_EQ(b.T, 5);  // not 9: sequence 1 is not in this batch
  EXPECT_EQ(b.lengths, (std::vector<int32_t>{3, 5}));
  ASSERT_EQ(b.input_ids.size(), 10u);
  for (int t = 0; t < 3; ++t) EXPECT_EQ(b.input_ids[static_cast<size_t>(t)], set.ids[static_cast<size_t>(set.offsets[2] + t)]);
  EXPECT_EQ(b.input_ids[3], 0);
  EXPECT_EQ(b.input_ids[4], 0);
  EXPECT_EQ(b.token_type_ids[4], 0);
  for (int t = 0; t < 5; ++t)
    EXPECT_EQ(b.token_type_ids[static_cast<size_t>(5 + t)], set.type_ids[static_cast<size_t>(t)]);
  EXPECT_EQ(b.targets, (std::vector<float>{-2.0f, -3.0f}));
  EXPECT_EQ(batch_tokens(b), 8);
}

TEST(EvaluationBatches, LongestFirstCoveringAll) {
  const EncodedSet set = make_set({4, 10, 7, 2, 9});
  const auto batches = evaluation_batches(set, 2);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0], (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(batches[1], (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(batches[2], (std::vector<int64_t>{3}));
}

TEST(LengthStats, NearestRankPercentilesAndTruncation) {
  EncodedSet set = make_set(std::vector<int32_t>(10, 4));
  set.untruncated = {3, 4, 5, 6, 7, 8, 9, 10, 70, 100};  // texts before truncation to 64
  const LengthStats s = length_stats(set);
  EXPECT_EQ(s.count, 10);
  EXPECT_EQ(s.min, 3);
  EXPECT_EQ(s.median, 7);  // rank ceil(0.5 * 10) = 5
  EXPECT_EQ(s.p90, 70);    // rank 9
  EXPECT_EQ(s.p99, 100);   // rank 10
  EXPECT_EQ(s.max, 100);
  EXPECT_DOUBLE_EQ(s.mean, 22.2);
  EXPECT_EQ(s.truncated, 2);
  const std::string line = describe_lengths(s, "train");
  EXPECT_NE(line.find("2 (20.0%) exceed max length 64"), std::string::npos) << line;
}

TEST(EncodeExamples, TruncatesCountsAndNamesBadLines) {
  const auto vocab = test::golden_dir() / "checkpoints" / "vocab.txt";
  FT_REQUIRE_PATH(vocab);
  const BertTokenizer tok = BertTokenizer::from_vocab(vocab.string());
  std::vector<Example> ex(3);
  ex[0].text = "tok5 tok6 tok7";
  ex[0].target = 1;
  ex[1].text = "tok8 tok9 tok10 tok11 tok12 tok13 tok14";
  ex[1].target = 2;
  ex[2].text = "tok20";
  ex[2].text_pair = "tok21 tok22";
  ex[2].target = 3;
  const EncodedSet set = encode_examples(tok, ex, 6, "mem");
  ASSERT_EQ(set.size(), 3);
  EXPECT_EQ(set.length(0), 5);  // [CLS] 3 tokens [SEP]
  EXPECT_EQ(set.length(1), 6);  // truncated
  EXPECT_EQ(set.untruncated[1], 9);
  EXPECT_EQ(set.length(2), 6);  // [CLS] a [SEP] b b [SEP]
  EXPECT_EQ(set.type_ids[static_cast<size_t>(set.offsets[2] + 4)], 1);
  EXPECT_EQ(set.ids[static_cast<size_t>(set.offsets[0])], tok.cls_id());
  EXPECT_EQ(set.ids[static_cast<size_t>(set.offsets[0] + 1)], tok.token_to_id("tok5"));
  EXPECT_TRUE(set.has_targets());
  EXPECT_EQ(length_stats(set).truncated, 1);
}
