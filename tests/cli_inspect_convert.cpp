// The ftengine binary as a user runs it: `inspect` and `convert` on the committed golden
// checkpoints, and the one-line error (exit 1) for a broken file.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/wait.h>

#include "model/checkpoint.h"
#include "tests/support/run_ftengine.h"
#include "tests/support/temp_files.h"
#include "tests/support/test_data.h"

namespace ft {
namespace {

using test::run_ftengine;
using RunResult = test::CliRun;

std::string golden(const std::string& name) { return (test::golden_dir() / "checkpoints" / name).string(); }

TEST(CliInspect, PrintsTensorsAndGroupCountsOfAModelDirectory) {
  const RunResult r = run_ftengine("inspect " + (test::golden_dir() / "checkpoints").string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("bert.encoder.layer.1.output.dense.weight"), std::string::npos) << r.out;
  // The tiny golden model: vocab 128, hidden 32, 2 layers, FFN 64, 64 positions.
  // embeddings = (128 + 64 + 2) * 32 + 2 * 32 = 6,272; a layer = 4 * 32 * 32 + 2 * 32 * 64 + 10 * 32 + 64 = 8,544.
  EXPECT_NE(r.out.find("6,272"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("8,544"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("17,088"), std::string::npos) << r.out;
}

TEST(CliConvert, PytorchBinBecomesTheSameTensorsAsHuggingFacesSafetensors) {
  test::TempDir dir;
  const std::string out = dir.file("converted.safetensors");
  const RunResult r = run_ftengine("convert " + golden("pytorch_model.bin") + " " + out);
  ASSERT_EQ(r.status, 0) << r.out;
  const StateDict converted = load_state_dict(out);
  const StateDict reference = load_state_dict(golden("model.safetensors"));
  ASSERT_EQ(converted.tensors.size(), reference.tensors.size());
  for (const auto& [name, ref] : reference.tensors) {
    const Tensor* got = converted.find(name);
    ASSERT_NE(got, nullptr) << name;
    ASSERT_EQ(got->shape(), ref.shape()) << name;
    ASSERT_EQ(got->dtype(), ref.dtype()) << name;
    EXPECT_EQ(std::memcmp(got->raw(), ref.raw(), ref.nbytes()), 0) << name;
  }
}

TEST(CliErrors, BrokenCheckpointIsOneLineNamingTheFileAndExitOne) {
  test::TempDir dir;
  const std::string bad = dir.file("broken.safetensors");
  test::write_bytes(bad, std::string("\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10));
  const RunResult r = run_ftengine("inspect " + bad);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_EQ(r.out.rfind("ftengine: error: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("broken.safetensors"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

TEST(CliErrors, UnknownDeviceIsAClearError) {
  const RunResult r = run_ftengine("train --device tpu:0 --max-steps 1");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("tpu:0"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace ft
