// Every malformed safetensors file is one clear ft::Error naming the file and the fault, never a
// crash and never a guess. Files are built byte by byte here so each breaks exactly one rule.
#include <gtest/gtest.h>

#include <string>

#include "core/safetensors.h"
#include "tests/support/temp_files.h"

namespace ft {
namespace {

using test::TempDir;

std::string u64le(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return s;
}

// 8-byte length + header + data; `length` overrides the true header length when given.
std::string file_bytes(const std::string& header, const std::string& data, int64_t length = -1) {
  return u64le(length < 0 ? header.size() : static_cast<uint64_t>(length)) + header + data;
}

// Reads `bytes` as a file and expects an ft::Error whose message names the file and contains
// every one of `phrases`.
void expect_rejected(const std::string& bytes, std::initializer_list<const char*> phrases) {
  TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  test::write_bytes(path, bytes);
  try {
    read_safetensors(path);
    ADD_FAILURE() << "accepted a bad file; expected: " << *phrases.begin();
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << "error does not name the file: " << msg;
    for (const char* p : phrases) EXPECT_NE(msg.find(p), std::string::npos) << "missing \"" << p << "\" in: " << msg;
  }
  // The in-memory parser (the fuzzer's entry point) says the same.
  EXPECT_THROW(parse_safetensors_header(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "mem"), Error);
}

const std::string kGood = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
const std::string kData8 = "\x01\x02\x03\x04\x05\x06\x07\x08";

TEST(SafetensorsBadInput, TheReferenceFileIsGood) {
  TempDir dir;
  test::write_bytes(dir.file("good.safetensors"), file_bytes(kGood, kData8));
  EXPECT_EQ(read_safetensors(dir.file("good.safetensors")).tensors.size(), 1u);
}

TEST(SafetensorsBadInput, TruncatedBeforeTheLength) { expect_rejected("\x05\x00\x00", {"truncated"}); }
TEST(SafetensorsBadInput, EmptyFile) { expect_rejected("", {"truncated"}); }

TEST(SafetensorsBadInput, TruncatedData) {
  expect_rejected(file_bytes(kGood, kData8.substr(0, 5)), {"past the end", "truncated"});
}

TEST(SafetensorsBadInput, HeaderLengthLargerThanTheFile) {
  expect_rejected(file_bytes(kGood, kData8, 5000), {"header length 5000", "larger than the file"});
}

TEST(SafetensorsBadInput, HeaderLengthAboveTheCap) {
  expect_rejected(file_bytes(kGood, kData8, 100'000'001), {"100000001", "limit"});
  expect_rejected(file_bytes(kGood, kData8, int64_t{1} << 62), {"limit"});
}

TEST(SafetensorsBadInput, HeaderNotJson) {
  expect_rejected(file_bytes(R"({"a": {"dtype": "F32",)", ""), {"not valid JSON"});
  expect_rejected(file_bytes("not json at all", ""), {"does not start with '{'"});
  expect_rejected(file_bytes("{\"a\xff\": 1}", ""), {"not valid JSON"});  // invalid UTF-8
}

TEST(SafetensorsBadInput, HeaderNotAnObjectOfObjects) {
  expect_rejected(file_bytes(R"({"a": [1, 2]})", ""), {"\"a\"", "expected an object"});
  expect_rejected(file_bytes(R"({"a": {"shape": [2], "data_offsets": [0, 8]}})", kData8), {"missing \"dtype\""});
  expect_rejected(file_bytes(R"({"a": {"dtype": "F32", "data_offsets": [0, 8]}})", kData8), {"missing \"shape\""});
  expect_rejected(file_bytes(R"({"a": {"dtype": "F32", "shape": [2]}})", kData8), {"missing \"data_offsets\""});
}

TEST(SafetensorsBadInput, OverlappingOffsets) {
  const std::string h = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  expect_rejected(file_bytes(h, kData8 + "\x09\x0a\x0b\x0c"), {"overlaps"});
}

TEST(SafetensorsBadInput, GapBetweenTensors) {
  const std::string h = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                        R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
  expect_rejected(file_bytes(h, kData8 + "\x09\x0a\x0b\x0c"), {"gap", "\"b\""});
}

TEST(SafetensorsBadInput, FirstTensorDoesNotStartAtZero) {
  const std::string h = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
  expect_rejected(file_bytes(h, kData8), {"gap"});
}

TEST(SafetensorsBadInput, OffsetsPastTheEnd) {
  const std::string h = R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})";
  expect_rejected(file_bytes(h, kData8), {"past the end"});
}

TEST(SafetensorsBadInput, TrailingBytesAfterTheLastTensor) {
  expect_rejected(file_bytes(kGood, kData8 + "xyz"), {"3 trailing bytes"});
}

TEST(SafetensorsBadInput, SizeNotMatchingShapeTimesDtype) {
  const std::string h = R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})";
  expect_rejected(file_bytes(h, kData8), {"\"a\"", "hold 8 bytes", "needs 12"});
  const std::string reversed = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})";
  expect_rejected(file_bytes(reversed, kData8), {"end before they begin"});
}

TEST(SafetensorsBadInput, UnknownDtype) {
  const std::string h = R"({"a":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}})";
  expect_rejected(file_bytes(h, kData8), {"unknown dtype \"F8_E4M3\""});
  const std::string n = R"({"a":{"dtype":7,"shape":[2],"data_offsets":[0,8]}})";
  expect_rejected(file_bytes(n, kData8), {"\"dtype\" must be a string"});
}

TEST(SafetensorsBadInput, DuplicateNames) {
  const std::string h = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                        R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
  expect_rejected(file_bytes(h, kData8), {"duplicate tensor name \"a\""});
}

TEST(SafetensorsBadInput, BadShapesAndOffsets) {
  expect_rejected(file_bytes(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", kData8),
                  {"non-negative integers"});
  expect_rejected(file_bytes(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", kData8),
                  {"non-negative integers"});
  expect_rejected(file_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", kData8), {"data_offsets"});
  expect_rejected(file_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,-8]}})", kData8), {"data_offsets"});
  expect_rejected(
      file_bytes(R"({"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", kData8),
      {"64 bits"});
  expect_rejected(
      file_bytes(R"({"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]}})", kData8),
      {"too large"});
}

TEST(SafetensorsBadInput, MetadataMustMapStringsToStrings) {
  expect_rejected(file_bytes(R"({"__metadata__":{"format":1}})", ""), {"__metadata__", "must be a string"});
  expect_rejected(file_bytes(R"({"__metadata__":[1]})", ""), {"__metadata__"});
}

TEST(SafetensorsBadInput, ZeroLengthTensorsAreLegalAnywhere) {
  // Not an error: an empty tensor may sit at any offset inside or at the end of the data.
  const std::string h = R"({"e1":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
                        R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("e2":{"dtype":"I64","shape":[3,0],"data_offsets":[8,8]}})";
  TempDir dir;
  test::write_bytes(dir.file("z.safetensors"), file_bytes(h, kData8));
  const SafetensorsFile f = read_safetensors(dir.file("z.safetensors"));
  ASSERT_EQ(f.tensors.size(), 3u);
  EXPECT_EQ(f.tensors[1].first, "a");
}

TEST(SafetensorsBadInput, MissingFileNamesIt) {
  try {
    read_safetensors("/nonexistent/dir/model.safetensors");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/model.safetensors"), std::string::npos);
  }
}

}  // namespace
}  // namespace ft
