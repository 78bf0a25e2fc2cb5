// Malformed PyTorch checkpoints: each is one clear ft::Error naming the file (and, inside the
// pickle, the byte offset) and the fault. Pickles are written by hand here, opcode by opcode, so
// each breaks exactly one thing; the well-formed one mirrors what torch.save emits.
#include <gtest/gtest.h>
#include <zip.h>

#include <functional>
#include <map>
#include <string>

#include "core/pickle.h"
#include "core/torch_bin.h"
#include "tests/support/temp_files.h"

namespace ft {
namespace {

using test::TempDir;

std::string le32(uint32_t v) { return std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)}; }
std::string str(const std::string& s) { return "X" + le32(static_cast<uint32_t>(s.size())) + s; }
std::string global(const std::string& m, const std::string& n) { return "c" + m + "\n" + n + "\n"; }
std::string k(uint8_t v) { return std::string("K") + char(v); }
const std::string kOrderedDict = global("collections", "OrderedDict") + ")R";

struct TensorSpec {
  std::string name = "w", storage_type = "FloatStorage", key = "0";
  std::string numel = k(4), offset = k(0);
  std::string size = k(2) + k(2) + "\x86", stride = k(2) + k(1) + "\x86";
};

std::string tensor_entry(const TensorSpec& t) {
  return str(t.name) + global("torch._utils", "_rebuild_tensor_v2") + "((" + str("storage") +
         global("torch", t.storage_type) + str(t.key) + str("cpu") + t.numel + "tQ" + t.offset + t.size + t.stride +
         "\x89" + kOrderedDict + "tR";
}

// What torch.save writes for {name: tensor}, protocol 2.
std::string state_dict_pickle(const std::vector<TensorSpec>& tensors = {TensorSpec{}}) {
  std::string p = std::string("\x80\x02") + kOrderedDict + "(";
  for (const auto& t : tensors) p += tensor_entry(t);
  return p + "u.";
}

std::string four_floats() {
  const float v[4] = {1.5f, -2.0f, 3.25f, 4.0f};
  return std::string(reinterpret_cast<const char*>(v), sizeof v);
}

void write_zip(const std::string& path, const std::map<std::string, std::string>& entries,
               int32_t method = ZIP_CM_STORE) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  ASSERT_NE(z, nullptr);
  for (const auto& [name, bytes] : entries) {
    zip_source_t* s = zip_source_buffer(z, bytes.data(), bytes.size(), 0);
    ASSERT_GE(zip_file_add(z, name.c_str(), s, ZIP_FL_OVERWRITE), 0);
    zip_set_file_compression(z, zip_name_locate(z, name.c_str(), 0), method, 0);
  }
  ASSERT_EQ(zip_close(z), 0);
}

std::map<std::string, std::string> good_archive() {
  return {{"archive/data.pkl", state_dict_pickle()}, {"archive/data/0", four_floats()},
          {"archive/byteorder", "little"}, {"archive/version", "3\n"}};
}

void expect_error_in(const std::function<void()>& f, const std::vector<std::string>& phrases) {
  try {
    f();
    ADD_FAILURE() << "accepted bad input; expected: " << *phrases.begin();
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& p : phrases) EXPECT_NE(msg.find(p), std::string::npos) << "missing \"" << p << "\" in: " << msg;
  }
}

void expect_bin_rejected(const std::map<std::string, std::string>& entries, std::initializer_list<std::string> phrases) {
  TempDir dir;
  const std::string path = dir.file("model.bin");
  write_zip(path, entries);
  std::vector<std::string> all{path};
  all.insert(all.end(), phrases.begin(), phrases.end());
  expect_error_in([&] { read_torch_bin(path); }, all);
}

void expect_pickle_rejected(const std::string& pickle, std::initializer_list<std::string> phrases) {
  std::vector<std::string> all{"data.pkl"};
  all.insert(all.end(), phrases.begin(), phrases.end());
  const auto* p = reinterpret_cast<const uint8_t*>(pickle.data());
  try {
    unpickle_state_dict(p, pickle.size(), "data.pkl");
    ADD_FAILURE() << "accepted a bad pickle; expected: " << *phrases.begin();
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& s : all) EXPECT_NE(msg.find(s), std::string::npos) << "missing \"" << s << "\" in: " << msg;
  }
}

TEST(TorchBinBadInput, TheHandWrittenArchiveIsGood) {
  TempDir dir;
  write_zip(dir.file("good.bin"), good_archive());
  const auto t = read_torch_bin(dir.file("good.bin"));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].first, "w");
  EXPECT_EQ(t[0].second.shape(), (Shape{2, 2}));
  EXPECT_EQ(t[0].second.data<float>()[2], 3.25f);
}

TEST(TorchBinBadInput, ARezippedDeflatedArchiveIsGoodToo) {
  TempDir dir;
  write_zip(dir.file("deflated.bin"), good_archive(), ZIP_CM_DEFLATE);
  const auto t = read_torch_bin(dir.file("deflated.bin"));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].second.data<float>()[1], -2.0f);
}

TEST(TorchBinBadInput, CorruptStorageBytesFailTheCrc) {
  TempDir dir;
  write_zip(dir.file("crc.bin"), good_archive());
  std::string bytes = test::read_bytes(dir.file("crc.bin"));
  const size_t at = bytes.find(four_floats());
  ASSERT_NE(at, std::string::npos);
  bytes[at + 5] ^= 0x40;
  test::write_bytes(dir.file("crc.bin"), bytes);
  expect_error_in([&] { read_torch_bin(dir.file("crc.bin")); }, {dir.file("crc.bin"), "archive/data/0"});
}

TEST(TorchBinBadInput, ZipWithoutDataPkl) {
  auto a = good_archive();
  a.erase("archive/data.pkl");
  expect_bin_rejected(a, {"no <archive>/data.pkl"});
}

TEST(TorchBinBadInput, TwoArchivesInOneZip) {
  auto a = good_archive();
  a["other/data.pkl"] = state_dict_pickle();
  expect_bin_rejected(a, {"2 data.pkl"});
}

TEST(TorchBinBadInput, NotAZip) {
  TempDir dir;
  test::write_bytes(dir.file("x.bin"), "PK\x03\x04 this is not really a zip archive");
  expect_error_in([&] { read_torch_bin(dir.file("x.bin")); }, {dir.file("x.bin"), "not a readable zip"});
}

TEST(TorchBinBadInput, MissingStorage) {
  auto a = good_archive();
  a.erase("archive/data/0");
  expect_bin_rejected(a, {"archive/data/0", "missing"});
}

TEST(TorchBinBadInput, StorageShorterThanDeclared) {
  auto a = good_archive();
  a["archive/data/0"] = four_floats().substr(0, 8);
  expect_bin_rejected(a, {"holds 8 bytes", "4 elements of F32"});
}

TEST(TorchBinBadInput, StorageLongerThanDeclared) {
  auto a = good_archive();
  a["archive/data/0"] = four_floats() + four_floats();
  expect_bin_rejected(a, {"archive/data/0", "more than the 16"});
}

TEST(TorchBinBadInput, BigEndian) {
  auto a = good_archive();
  a["archive/byteorder"] = "big";
  expect_bin_rejected(a, {"byteorder", "little-endian"});
}

TEST(TorchBinBadInput, BadPickleInsideTheZipNamesFileAndEntry) {
  auto a = good_archive();
  a["archive/data.pkl"] = std::string("\x80\x02") + global("os", "system") + str("echo hi") + "\x85R.";
  expect_bin_rejected(a, {"archive/data.pkl", "byte 2", "global os.system is not allowed"});
}

TEST(TorchBinBadInput, UnsupportedOpcode) {
  // INT (text form, protocol 0) is not what torch.save writes.
  expect_pickle_rejected(std::string("\x80\x02") + "I12\n.", {"byte 2", "opcode 0x49 ('I')", "not supported"});
  expect_pickle_rejected(std::string("\x80\x02") + "\x81.", {"byte 2", "opcode 0x81"});  // NEWOBJ
}

TEST(TorchBinBadInput, UnsupportedGlobals) {
  expect_pickle_rejected(std::string("\x80\x02") + global("builtins", "eval") + ".", {"builtins.eval"});
  expect_pickle_rejected(std::string("\x80\x02") + global("torch", "UntypedStorage") + ".", {"torch.UntypedStorage"});
  // The same through STACK_GLOBAL (protocol 4).
  expect_pickle_rejected(std::string("\x80\x04") + str("posix") + str("system") + "\x93.", {"posix.system"});
}

TEST(TorchBinBadInput, TruncatedPickle) {
  const std::string p = state_dict_pickle();
  for (size_t cut : {size_t{1}, size_t{5}, p.size() / 2, p.size() - 1})
    expect_pickle_rejected(p.substr(0, cut), {"data.pkl"});
  expect_pickle_rejected(p.substr(0, 40), {"truncated pickle"});
}

TEST(TorchBinBadInput, ViewOutsideItsStorage) {
  TensorSpec t;
  t.size = k(3) + k(2) + "\x86";  // 6 elements from a storage of 4
  expect_pickle_rejected(state_dict_pickle({t}), {"reaches element 5", "which has 4"});
  TensorSpec off;
  off.offset = k(1);  // offset 1 + 3 = element 4 of 4
  expect_pickle_rejected(state_dict_pickle({off}), {"reaches element 4"});
  TensorSpec neg;
  neg.offset = "J" + le32(0xffffffffu);  // -1
  expect_pickle_rejected(state_dict_pickle({neg}), {"negative storage offset"});
  TensorSpec rank;
  rank.stride = k(1) + "\x85";
  expect_pickle_rejected(state_dict_pickle({rank}), {"differ in rank"});
  TensorSpec huge;
  huge.size = "J" + le32(0x7fffffff) + "J" + le32(0x7fffffff) + "J" + le32(0x7fffffff) + "\x87";
  huge.stride = k(1) + k(1) + k(1) + "\x87";
  expect_pickle_rejected(state_dict_pickle({huge}), {"overflows"});
}

TEST(TorchBinBadInput, NotAStateDict) {
  expect_pickle_rejected(std::string("\x80\x02") + "]" + ".", {"holds a list, not a state dict"});
  expect_pickle_rejected(std::string("\x80\x02") + kOrderedDict + str("w") + k(5) + "s.", {"\"w\" is an int, not a tensor"});
  expect_pickle_rejected(std::string("\x80\x02") + kOrderedDict + k(1) + k(5) + "s.", {"key is an int"});
  TensorSpec a, b;
  expect_pickle_rejected(state_dict_pickle({a, b}), {"duplicate state-dict entry \"w\""});
}

TEST(TorchBinBadInput, StackAndMemoMisuse) {
  expect_pickle_rejected(std::string("\x80\x02") + "R", {"empty stack"});
  expect_pickle_rejected(std::string("\x80\x02") + "h\x07", {"memo entry 7"});
  expect_pickle_rejected(std::string("\x80\x02") + "t.", {"without a MARK"});
  expect_pickle_rejected(std::string("\x80\x02") + "}N.", {"STOP with 2 objects"});
  expect_pickle_rejected(std::string("\x80\x02") + "N}b.", {"BUILD on None"});
  expect_pickle_rejected(std::string("\x80\x02") + "NNNs.", {"SETITEM on None"});
  expect_pickle_rejected(std::string("\x80\x09") + "}.", {"protocol 9"});
  expect_pickle_rejected(std::string("\x80\x02") + k(1) + ")R.", {"REDUCE on an int"});
  expect_pickle_rejected(std::string("\x80\x02") + global("torch", "FloatStorage") + ")R.", {"cannot be called"});
}

TEST(TorchBinBadInput, BadPersistentIds) {
  expect_pickle_rejected(std::string("\x80\x02") + str("x") + "Q.", {"persistent id must be a 5-tuple"});
  TensorSpec t;
  t.key = "../../etc/passwd";
  expect_pickle_rejected(state_dict_pickle({t}), {"not a plain file name"});
  TensorSpec n;
  n.numel = "J" + le32(0xfffffffe);
  expect_pickle_rejected(state_dict_pickle({n}), {"negative size"});
  TensorSpec a, b;
  b.name = "v";
  b.storage_type = "HalfStorage";  // same key "0", another type
  expect_pickle_rejected(state_dict_pickle({a, b}), {"declared twice"});
}

TEST(TorchBinBadInput, DeepNestingAndCyclesNeitherCrashNorRecurse) {
  // 200,000 nested 1-tuples, then a list that contains itself: both parse without recursion and
  // are rejected because they are not state dicts.
  std::string deep = std::string("\x80\x02") + "N" + std::string(200000, '\x85') + ".";
  expect_pickle_rejected(deep, {"holds a tuple"});
  std::string cycle = std::string("\x80\x02") + "]q\x00h\x00" + "a.";
  expect_pickle_rejected(cycle, {"holds a list"});
}

TEST(TorchBinBadInput, MaterialiseChecksItsArguments) {
  PickledStorage s{"0", DType::F32, 4, "cpu"};
  PickledTensor t{"w", 0, 0, {2, 2}, {2, 1}};
  const std::string bytes = four_floats();
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  EXPECT_EQ(materialize_pickled_tensor(t, s, p, 16, "x").data<float>()[3], 4.0f);
  expect_error_in([&] { materialize_pickled_tensor(t, s, p, 12, "x"); }, {"holds 12 bytes"});
  PickledTensor bad{"w", 0, 2, {2, 2}, {2, 1}};
  expect_error_in([&] { materialize_pickled_tensor(bad, s, p, 16, "x"); }, {"reaches element 5"});
}

}  // namespace
}  // namespace ft
