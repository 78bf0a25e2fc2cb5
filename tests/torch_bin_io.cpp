// pytorch_model.bin read natively, checked against files PyTorch and transformers wrote
// (tests/golden/checkpoints, made by tools/golden/checkpoints.py).
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "core/safetensors.h"
#include "core/torch_bin.h"
#include "tests/support/temp_files.h"
#include "tests/support/test_data.h"

namespace ft {
namespace {

std::string golden(const char* name) { return (test::golden_dir() / "checkpoints" / name).string(); }

std::map<std::string, Tensor> by_name(const std::vector<std::pair<std::string, Tensor>>& v) {
  std::map<std::string, Tensor> m;
  for (const auto& [n, t] : v) EXPECT_TRUE(m.emplace(n, t).second) << "duplicate " << n;
  return m;
}

::testing::AssertionResult same_bytes(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype())
    return ::testing::AssertionFailure() << dtype_name(a.dtype()) << " vs " << dtype_name(b.dtype());
  if (a.shape() != b.shape()) return ::testing::AssertionFailure() << shape_str(a.shape()) << " vs " << shape_str(b.shape());
  if (a.nbytes() && std::memcmp(a.raw(), b.raw(), a.nbytes()) != 0) return ::testing::AssertionFailure() << "bytes differ";
  return ::testing::AssertionSuccess();
}

TEST(TorchBinIo, BinEqualsHuggingFacesSafetensorsOfTheSameModel) {
  FT_REQUIRE_PATH(golden("pytorch_model.bin"));
  const auto bin = read_torch_bin(golden("pytorch_model.bin"));
  const auto st = by_name(read_safetensors(golden("model.safetensors")).tensors);
  ASSERT_EQ(bin.size(), st.size());
  for (const auto& [name, t] : bin) {
    ASSERT_TRUE(st.count(name)) << name;
    EXPECT_TRUE(same_bytes(t, st.at(name))) << name;
  }
  EXPECT_EQ(bin.front().first, "bert.embeddings.word_embeddings.weight");  // the pickle's (state dict) order
  EXPECT_EQ(bin.back().first, "classifier.bias");
}

// torch converted the F32 tensors to bf16 / f16 with round-to-nearest-even, as ft::bf16/f16 do.
template <class Half>
void expect_converted(const char* file, DType dtype) {
  FT_REQUIRE_PATH(golden(file));
  const auto half = read_torch_bin(golden(file));
  const auto st = by_name(read_safetensors(golden("model.safetensors")).tensors);
  ASSERT_EQ(half.size(), st.size());
  for (const auto& [name, t] : half) {
    ASSERT_EQ(t.dtype(), dtype) << name;
    const Tensor& f = st.at(name);
    ASSERT_EQ(t.shape(), f.shape()) << name;
    const Half* h = t.template data<Half>();
    const float* x = f.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) ASSERT_EQ(h[i].bits, Half::from_float(x[i]).bits) << name << "[" << i << "]";
  }
}
TEST(TorchBinIo, Bfloat16Storages) { expect_converted<bf16>("pytorch_model_bf16.bin", DType::BF16); }
TEST(TorchBinIo, Float16Storages) { expect_converted<f16>("pytorch_model_fp16.bin", DType::F16); }

class TorchBinViews : public ::testing::TestWithParam<const char*> {};
INSTANTIATE_TEST_SUITE_P(Protocols, TorchBinViews, ::testing::Values("views.bin", "views_protocol4.bin"));

TEST_P(TorchBinViews, OffsetsStridesAndSharedStorages) {
  FT_REQUIRE_PATH(golden(GetParam()));
  const auto views = read_torch_bin(golden(GetParam()));
  const auto expected = by_name(read_safetensors(golden("views_expected.safetensors")).tensors);
  ASSERT_EQ(views.size(), expected.size());
  for (const auto& [name, t] : views) {
    ASSERT_TRUE(expected.count(name)) << name;
    EXPECT_TRUE(same_bytes(t, expected.at(name))) << name;
  }
  const auto m = by_name(views);
  EXPECT_EQ(m.at("scalar").shape(), Shape{});
  EXPECT_EQ(m.at("scalar").data<float>()[0], 3.25f);
  EXPECT_EQ(m.at("empty").shape(), (Shape{0, 3}));
  EXPECT_EQ(m.at("positions_i64").data<int64_t>()[9], 9);
  EXPECT_EQ(m.at("ints_i32").data<int32_t>()[0], -7);
}

TEST(TorchBinIo, TiedTensorsSharingOneStorageBothLoad) {
  FT_REQUIRE_PATH(golden("masked_lm.bin"));
  const auto m = by_name(read_torch_bin(golden("masked_lm.bin")));
  EXPECT_TRUE(same_bytes(m.at("cls.predictions.decoder.weight"), m.at("bert.embeddings.word_embeddings.weight")));
  EXPECT_EQ(m.at("bert.embeddings.position_ids").dtype(), DType::I64);
  EXPECT_EQ(m.at("bert.embeddings.position_ids").data<int64_t>()[63], 63);
  EXPECT_FALSE(m.count("bert.pooler.dense.weight"));
}

TEST(TorchBinIo, ConvertedToSafetensorsAndBackIsByteEqual) {
  FT_REQUIRE_PATH(golden("views.bin"));
  test::TempDir dir;
  const auto bin = read_torch_bin(golden("pytorch_model.bin"));
  std::vector<NamedTensorRef> refs;
  for (const auto& [n, t] : bin) refs.push_back({n, &t});
  write_safetensors(dir.file("converted.safetensors"), refs);
  const auto back = read_safetensors(dir.file("converted.safetensors")).tensors;
  ASSERT_EQ(back.size(), bin.size());
  for (size_t i = 0; i < bin.size(); ++i) {
    EXPECT_EQ(back[i].first, bin[i].first);
    EXPECT_TRUE(same_bytes(back[i].second, bin[i].second)) << bin[i].first;
  }
}

TEST(TorchBinIo, ZipDetection) {
  const uint8_t zip[] = {'P', 'K', 3, 4, 0};
  const uint8_t not_zip[] = {'P', 'K', 5, 6};
  EXPECT_TRUE(looks_like_zip(zip, sizeof zip));
  EXPECT_FALSE(looks_like_zip(not_zip, sizeof not_zip));
  EXPECT_FALSE(looks_like_zip(zip, 3));
}

}  // namespace
}  // namespace ft
