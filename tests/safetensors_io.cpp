// Safetensors: the reader on Hugging Face's own file, the writer's exact layout, round trips, the
// copy-on-write mapping and atomic writes.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <random>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/safetensors.h"
#include "tests/support/temp_files.h"
#include "tests/support/test_data.h"

namespace ft {
namespace {

using test::read_bytes;
using test::TempDir;

Tensor random_tensor(DType dtype, Shape shape, uint32_t seed) {
  Tensor t = Tensor::zeros(dtype, std::move(shape));
  std::mt19937 rng(seed);
  auto* p = static_cast<uint8_t*>(t.raw());
  for (size_t i = 0; i < t.nbytes(); ++i) p[i] = static_cast<uint8_t>(rng() | 1u);  // never all zeros
  return t;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && a.nbytes() == b.nbytes() &&
         (a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

uint64_t header_length(const std::string& bytes) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
  return n;
}

TEST(SafetensorsIo, WriterLayoutIsExactlyTheFormat) {
  TempDir dir;
  const Tensor a = random_tensor(DType::F32, {2, 3}, 1);
  const Tensor b = random_tensor(DType::BF16, {5}, 2);  // 10 bytes: the next tensor starts unaligned to 4
  const Tensor c = random_tensor(DType::I64, {1, 2}, 3);
  write_safetensors(dir.file("x.safetensors"), {{"zeta", &a}, {"alpha", &b}, {"mid", &c}});
  const std::string bytes = read_bytes(dir.file("x.safetensors"));
  const uint64_t n = header_length(bytes);
  EXPECT_EQ((8 + n) % 8, 0u) << "the header is padded so the data starts 8-byte aligned";
  const std::string header = bytes.substr(8, n);
  EXPECT_EQ(header.find_first_not_of(' ', header.rfind('}') + 1), std::string::npos) << "padding is spaces only";
  // Keys in the order given, __metadata__ first, offsets back to back.
  EXPECT_EQ(header.rfind(R"({"__metadata__":{"format":"pt"},"zeta":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
                         R"("alpha":{"dtype":"BF16","shape":[5],"data_offsets":[24,34]},)"
                         R"("mid":{"dtype":"I64","shape":[1,2],"data_offsets":[34,50]}})",
                         0),
            0u)
      << header;
  ASSERT_EQ(bytes.size(), 8 + n + 50);
  EXPECT_EQ(std::memcmp(bytes.data() + 8 + n, a.raw(), 24), 0);
  EXPECT_EQ(std::memcmp(bytes.data() + 8 + n + 24, b.raw(), 10), 0);
  EXPECT_EQ(std::memcmp(bytes.data() + 8 + n + 34, c.raw(), 16), 0);
}

TEST(SafetensorsIo, RoundTripIsByteEqualIncludingUnalignedAndEmptyTensors) {
  TempDir dir;
  const Tensor a = random_tensor(DType::F16, {3}, 4);   // 6 bytes: the F32 after it is misaligned
  const Tensor b = random_tensor(DType::F32, {4, 2}, 5);
  const Tensor empty = Tensor::zeros(DType::F32, {0, 7});
  const Tensor scalar = random_tensor(DType::F64, {}, 6);
  const Tensor u8 = random_tensor(DType::U8, {3}, 7);
  write_safetensors(dir.file("r.safetensors"),
                    {{"a", &a}, {"b", &b}, {"empty", &empty}, {"scalar", &scalar}, {"u8", &u8}});
  const SafetensorsFile f = read_safetensors(dir.file("r.safetensors"));
  ASSERT_EQ(f.tensors.size(), 5u);
  const Tensor* want[] = {&a, &b, &empty, &scalar, &u8};
  const char* names[] = {"a", "b", "empty", "scalar", "u8"};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(f.tensors[i].first, names[i]);
    EXPECT_TRUE(same_bytes(f.tensors[i].second, *want[i])) << names[i];
  }
  EXPECT_EQ(f.header.metadata.at("format"), "pt");
  // Writing it back gives the same file.
  std::vector<NamedTensorRef> refs;
  for (const auto& [n, t] : f.tensors) refs.push_back({n, &t});
  write_safetensors(dir.file("r2.safetensors"), refs);
  EXPECT_EQ(read_bytes(dir.file("r.safetensors")), read_bytes(dir.file("r2.safetensors")));
}

TEST(SafetensorsIo, EmptyFileListIsLegal) {
  TempDir dir;
  write_safetensors(dir.file("e.safetensors"), {}, {});
  const std::string bytes = read_bytes(dir.file("e.safetensors"));
  EXPECT_EQ(bytes.size(), 16u);  // 8 + "{}" padded to 8
  EXPECT_TRUE(read_safetensors(dir.file("e.safetensors")).tensors.empty());
}

TEST(SafetensorsIo, ReadsHuggingFacesOwnFile) {
  const auto path = test::golden_dir() / "checkpoints" / "model.safetensors";
  FT_REQUIRE_PATH(path);
  const SafetensorsFile f = read_safetensors(path.string());
  EXPECT_EQ(f.header.metadata.at("format"), "pt");
  ASSERT_FALSE(f.tensors.empty());
  bool found = false;
  for (const auto& [name, t] : f.tensors) {
    EXPECT_EQ(t.dtype(), DType::F32) << name;
    if (name == "bert.embeddings.word_embeddings.weight") {
      found = true;
      EXPECT_EQ(t.shape(), (Shape{128, 32}));
    }
  }
  EXPECT_TRUE(found);
}

TEST(SafetensorsIo, LoadedTensorsAreCopyOnWriteViews) {
  TempDir dir;
  const Tensor a = random_tensor(DType::F32, {16}, 8);
  write_safetensors(dir.file("c.safetensors"), {{"a", &a}});
  const std::string before = read_bytes(dir.file("c.safetensors"));
  {
    SafetensorsFile f = read_safetensors(dir.file("c.safetensors"));
    float* p = f.tensors[0].second.data<float>();
    for (int i = 0; i < 16; ++i) p[i] = -1.0f;  // writes to private pages
    EXPECT_EQ(p[3], -1.0f);
  }
  EXPECT_EQ(read_bytes(dir.file("c.safetensors")), before);
}

TEST(SafetensorsIo, LoadedTensorsOutliveTheFileObject) {
  TempDir dir;
  const Tensor a = random_tensor(DType::F32, {4, 4}, 9);
  write_safetensors(dir.file("o.safetensors"), {{"a", &a}});
  Tensor kept;
  { kept = read_safetensors(dir.file("o.safetensors")).tensors[0].second; }
  std::filesystem::remove(dir.file("o.safetensors"));  // the mapping stays valid
  EXPECT_TRUE(same_bytes(kept, a));
}

TEST(SafetensorsIo, WriterRejectsDuplicateAndReservedNames) {
  TempDir dir;
  const Tensor a = random_tensor(DType::F32, {2}, 10);
  EXPECT_THROW(write_safetensors(dir.file("d.safetensors"), {{"a", &a}, {"a", &a}}), Error);
  EXPECT_THROW(write_safetensors(dir.file("d.safetensors"), {{"__metadata__", &a}}), Error);
  EXPECT_THROW(write_safetensors(dir.file("d.safetensors"), {{"", &a}}), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("d.safetensors")));
}

TEST(AtomicFile, ReplacesContentAndLeavesNoTemporaryFiles) {
  TempDir dir;
  const std::string path = dir.file("f.txt");
  write_file_atomically(path, "first");
  write_file_atomically(path, "second, longer");
  EXPECT_EQ(read_bytes(path), "second, longer");
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1);
}

TEST(AtomicFile, AnUncommittedWriteKeepsTheOldContent) {
  TempDir dir;
  const std::string path = dir.file("g.txt");
  write_file_atomically(path, "old");
  {
    AtomicFileWriter w(path);
    w.write("new content that is never committed");
    EXPECT_EQ(read_bytes(path), "old");
  }  // destroyed without commit(), as when an exception unwinds
  EXPECT_EQ(read_bytes(path), "old");
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1);
}

TEST(AtomicFile, StreamsLargeWritesAndCopies) {
  TempDir dir;
  std::string big(3 << 20, '\0');
  std::mt19937 rng(11);
  for (char& c : big) c = static_cast<char>(rng());
  {
    AtomicFileWriter w(dir.file("big"));
    for (size_t off = 0; off < big.size(); off += 1 << 20) w.write(big.data() + off, 1 << 20);
    EXPECT_EQ(w.bytes_written(), big.size());
    w.commit();
  }
  copy_file_atomically(dir.file("big"), dir.file("copy"));
  EXPECT_EQ(read_bytes(dir.file("copy")), big);
}

TEST(AtomicFile, MissingDirectoryIsAClearError) {
  TempDir dir;
  try {
    write_file_atomically(dir.file("no/such/dir/file"), "x");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no/such/dir/file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ft
