// The ftengine binary itself: train, evaluate and predict wired to their flags, presets overridden
// by explicit flags, bad rows reported with file, line and fault, and the demo's missing-weights
// message. Runs build/ftengine (found beside this test's build directory) and skips when it has not
// been built.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <climits>
#include <cstdio>
#include <filesystem>

#include "tests/support/run_ftengine.h"
#include "tests/trainer_support.h"

namespace fs = std::filesystem;
using namespace ft;
using namespace ft::test;


TEST(TrainerCli, TrainEvaluatePredict) {
  FT_REQUIRE_FTENGINE_AND_TINY_MODEL();
  ScratchDir dir("cli");
  const std::string csv = write_toy_csv(dir / "toy.csv", 100, 31);
  const std::string data = "--data " + csv + " --target-column y --split-column split --id-column id";
  const std::string out = dir / "run";
  const CliRun t = run_ftengine("train --model " + tiny_checkpoint_dir().string() + " " + data +
                    " --max-length 32 --epochs 1 --eval-every 3 --device cpu --progress plain --output-dir " + out);
  ASSERT_EQ(t.status, 0) << t.out;
  EXPECT_NE(t.out.find("exceed max length 32"), std::string::npos) << t.out;  // the length statistics
  EXPECT_NE(t.out.find("test (best model) metrics"), std::string::npos) << t.out;
  for (const char* f : {"best/model.safetensors", "last/model.safetensors", "train_log.jsonl", "metrics.json",
                        "predictions.csv", "loss_curves.svg"})
    EXPECT_TRUE(fs::is_regular_file(out + "/" + f)) << f;

  const CliRun e = run_ftengine("evaluate --model " + out + "/best " + data + " --split test --device cpu --out " + (dir / "m.json"));
  ASSERT_EQ(e.status, 0) << e.out;
  const auto m = nlohmann::json::parse(read_file(dir / "m.json"));
  const auto trained = nlohmann::json::parse(read_file(out + "/metrics.json"));
  // Same model, same 15 test rows, same batches: the same MSE up to summation order (double).
  EXPECT_NEAR(m["mse"].get<double>(), trained["test"]["mse"].get<double>(), 1e-12);
  EXPECT_EQ(m["count"].get<int>(), 15);

  const CliRun p = run_ftengine("predict --model " + out + "/best --data " + csv + " --id-column id --device cpu --out " + (dir / "p.csv"));
  ASSERT_EQ(p.status, 0) << p.out;
  const Table preds = parse_delimited(read_file(dir / "p.csv"), ',', "p.csv");
  EXPECT_EQ(preds.header, (std::vector<std::string>{"row", "line", "id", "prediction"}));
  EXPECT_EQ(preds.records.size(), 100u);
}

TEST(TrainerCli, PresetIsOverriddenByExplicitFlags) {
  FT_REQUIRE_FTENGINE_AND_TINY_MODEL();
  ScratchDir dir("cli_preset");
  const std::string csv = write_toy_csv(dir / "toy.csv", 60, 32);
  const CliRun t = run_ftengine("train --model " + tiny_checkpoint_dir().string() + " --data " + csv +
                    " --target-column y --split-column split --preset restricted --lr 0.01 --max-length 32"
                    " --max-steps 2 --device cpu --output-dir " + (dir / "run"));
  ASSERT_EQ(t.status, 0) << t.out;
  const auto c = nlohmann::json::parse(read_file(dir / "run/run_config.json"));
  EXPECT_DOUBLE_EQ(c["lr"].get<double>(), 0.01);            // explicit flag
  EXPECT_EQ(c["max_length"].get<int>(), 32);                 // explicit flag
  EXPECT_EQ(c["epochs"].get<int>(), 20);                     // from the preset
  EXPECT_EQ(c["trainable"], nlohmann::json::array({"head"}));  // from the preset
}

TEST(TrainerCli, BadRowsAreReportedOrSkipped) {
  FT_REQUIRE_FTENGINE_AND_TINY_MODEL();
  ScratchDir dir("cli_bad");
  std::ofstream(dir / "bad.csv") << "text,y\ntok5 tok6,1\ntok7,oops\ntok8 tok9,2\ntok10,3\ntok11,4\n";
  const std::string args = "train --model " + tiny_checkpoint_dir().string() + " --data " + (dir / "bad.csv") +
                           " --target-column y --max-length 16 --max-steps 1 --split-ratios 0.6,0.2,0.2 --device cpu"
                           " --output-dir " + (dir / "run");
  const CliRun bad = run_ftengine(args);
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.out.find("ftengine: error: " + (dir / "bad.csv") + ": line 3: the target \"oops\""), std::string::npos)
      << bad.out;
  const CliRun skipped = run_ftengine(args + " --skip-bad-rows");
  EXPECT_EQ(skipped.status, 0) << skipped.out;
  EXPECT_NE(skipped.out.find("skipped 1 bad rows of 5"), std::string::npos) << skipped.out;
}

TEST(TrainerCli, DemoWithoutWeightsSaysHowToFetchThem) {
  FT_REQUIRE_FTENGINE_AND_TINY_MODEL();
  ScratchDir dir("cli_demo");
  const CliRun r = run_ftengine("train --output-dir " + (dir / "demo"), "FTENGINE_MINILM_DIR=" + (dir / "nothing"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("tools/fetch_minilm.sh"), std::string::npos) << r.out;
}
