// The ftengine binary against bad input and misuse, as a user meets them: every case ends with one
// line "ftengine: error: ..." on stderr naming the flag or file and the fault, and exit status 1
// (docs/errors.md holds the catalogue); nothing out of range is accepted silently; a finished run
// is never replaced without --overwrite; a second ftengine on one output directory is refused;
// SIGINT saves a checkpoint and says how to resume, and the resumed run equals the uninterrupted one.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "model/train/output_dir.h"
#include "tests/support/run_ftengine.h"
#include "tests/trainer_support.h"

namespace fs = std::filesystem;
using namespace ft;
using namespace ft::test;

namespace {


// The error contract: exit 1, the one-line message first, no source location unless debugging.
void expect_user_error(const CliRun& r, const std::vector<std::string>& words) {
  EXPECT_EQ(r.status, 1) << r.out;
  const size_t at = r.out.find("ftengine: error: ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string line = r.out.substr(at, r.out.find('\n', at) - at);
  for (const auto& w : words) EXPECT_NE(line.find(w), std::string::npos) << "missing \"" << w << "\" in: " << line;
  EXPECT_EQ(r.out.find("[check"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(".cpp:"), std::string::npos) << r.out;
}

std::string toy_train_args(const ScratchDir& dir, const std::string& out) {
  static int n = 0;
  const std::string csv = write_toy_csv(dir / ("toy" + std::to_string(n++) + ".csv"), 60, 41);
  return "train --model " + tiny_checkpoint_dir().string() + " --data " + csv +
         " --target-column y --split-column split --max-length 32 --device cpu --progress plain --output-dir " + out;
}

struct FlagCase {
  const char* args;
  const char* words;  // what the message must hold besides the flag's name and value
};

class CliRangeChecks : public ::testing::TestWithParam<FlagCase> {};

TEST_P(CliRangeChecks, OutOfRangeFlagIsRefusedNamingFlagValueAndRange) {
  FT_REQUIRE_FTENGINE_AND_TINY_MODEL();
  ScratchDir dir("cli_range");
  const CliRun r = run_ftengine(toy_train_args(dir, dir / "run") + " " + GetParam().args);
  expect_user_error(r, {GetParam().args, GetParam().words});
  EXPECT_FALSE(fs::exists(dir / "run/last")) << "nothing may be trained";
}

INSTANTIATE_TEST_SUITE_P(
    Flags, CliRangeChecks,
    ::testing::Values(FlagCase{"--adam-beta1 1.5", "in [0, 1)"}, FlagCase{"--adam-beta2 1", "in [0, 1)"},
                      FlagCase{"--adam-eps -1", "above 0"}, FlagCase{"--weight-decay -0.1", "at least 0"},
                      FlagCase{"--max-grad-norm -1", "0: no clipping"}, FlagCase{"--max-steps -4", "at least 0"},
                      FlagCase{"--save-every -5", "at least 0"}, FlagCase{"--eval-every -3", "at least 0"},
                      FlagCase{"--log-every -1", "at least 0"}, FlagCase{"--threads -3", "0: all cores"},
                      FlagCase{"--batch-size 0", "at least 1"}, FlagCase{"--grad-accum 0", "at least 1"},
                      FlagCase{"--epochs 0", "above 0"}, FlagCase{"--lr 0", "above 0"},
                      FlagCase{"--warmup-ratio 1.5", "in [0, 1]"}, FlagCase{"--warmup-steps -1", "at least 0"},
                      FlagCase{"--keep-checkpoints 0", "at least 1"},
                      FlagCase{"--early-stopping-patience -1", "at least 0"},
                      FlagCase{"--hidden-dropout 1", "in [0, 1)"}, FlagCase{"--max-length 2", "at least 3"},
                      FlagCase{"--max-length 100", "max_position_embeddings"},
                      FlagCase{"--eval-batch-size 0", "at least 1"}),
    [](const ::testing::TestParamInfo<FlagCase>& info) {
      std::string name;
      for (const char* c = info.param.args + 2; *c && *c != ' '; ++c) name += *c == '-' ? '_' : *c;
      return name + "_" + std::to_string(info.index);
    });

TEST(CliBadInput, ColumnsAndCommandLineMistakes) {
  FT_REQUIRE_FTENGINE_AND_TINY_MODEL();
  ScratchDir dir("cli_misuse");
  const std::string train = toy_train_args(dir, dir / "run");
  expect_user_error(run_ftengine(train + " --text-column y"), {"--text-column and --target-column", "\"y\""});
  expect_user_error(run_ftengine(train + " --no-such-flag 3"), {"--no-such-flag", "see ftengine train --help"});
  expect_user_error(run_ftengine(train + " --lr"), {"--lr", "see ftengine train --help"});
  expect_user_error(run_ftengine(train + " --lr abc"), {"--lr", "abc"});
  expect_user_error(run_ftengine("evaluate --model " + tiny_checkpoint_dir().string()), {"--data", "required"});
  expect_user_error(run_ftengine("predict --model " + tiny_checkpoint_dir().string() + " --out x.csv"),
                    {"--data", "required"});
  expect_user_error(run_ftengine(""), {"subcommand"});
  expect_user_error(run_ftengine("nonsense --lr 3"), {"unknown command \"nonsense\"", "train, evaluate"});
  const CliRun help = run_ftengine("train --help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("--learning_rate"), std::string::npos) << "HF's names are listed with ours";
}

TEST(CliBadInput, SourceLocationOnlyWithTheDebugSwitch) {
  FT_REQUIRE_FTENGINE_AND_TINY_MODEL();
  ScratchDir dir("cli_debug");
  const std::string train = toy_train_args(dir, dir / "run") + " --adam-eps -1";
  expect_user_error(run_ftengine(train), {"--adam-eps -1"});
  const CliRun debug = run_ftengine(train, "FTENGINE_DEBUG=1");
  EXPECT_EQ(debug.status, 1);
  EXPECT_NE(debug.out.find("ftengine: raised at check"), std::string::npos) << debug.out;
  EXPECT_NE(debug.out.find("model/train/train_settings_check.cpp:"), std::string::npos) << debug.out;
}

TEST(CliBadInput, VagueCasesNameTheRealFault) {
  FT_REQUIRE_FTENGINE_AND_TINY_MODEL();
  ScratchDir dir("cli_vague");
  const std::string model = " --model " + tiny_checkpoint_dir().string() + " --target-column y --device cpu --output-dir " +
                            (dir / "run");
  std::ofstream(dir / "quote.csv") << "text,y\ntok5,1\ntok6,2\n\"tok7 unclosed,3\ntok8,\"4\"\ntok9,5\n";
  expect_user_error(run_ftengine("train --data " + (dir / "quote.csv") + model),
                    {"quote.csv", "line 4", "opened here", "line 5", "unclosed"});
  std::ofstream(dir / "semi.csv") << "text;y\ntok5;1\ntok6;2\n";
  expect_user_error(run_ftengine("train --data " + (dir / "semi.csv") + model),
                    {"semi.csv", "semicolon-delimited", "--delimiter ';'"});
  fs::create_directories(dir / "folder.csv");
  expect_user_error(run_ftengine("train --data " + (dir / "folder.csv") + model), {"folder.csv", "is a directory"});
  expect_user_error(run_ftengine("train --data " + (dir / "absent.csv") + model), {"absent.csv", "does not exist"});
  std::ofstream(dir / "ok.csv") << "text,y\ntok5,1\ntok6,2\n";
  expect_user_error(run_ftengine("train --data " + (dir / "ok.csv") + " --target-column y --model " + (dir / "no_model") +
                                 " --output-dir " + (dir / "run")),
                    {"no_model", "does not exist"});
  fs::create_directories(dir / "m");
  fs::copy_file(tiny_checkpoint_dir() / "config.json", dir / "m/config.json");
  fs::copy_file(tiny_checkpoint_dir() / "vocab.txt", dir / "m/vocab.txt");
  std::ofstream(dir / "m/pytorch_model.bin", std::ios::binary) << std::string("\x96\xd0\xa9\xd0 random bytes here", 21);
  expect_user_error(run_ftengine("train --data " + (dir / "ok.csv") + " --target-column y --model " + (dir / "m") +
                                 " --output-dir " + (dir / "run")),
                    {"pytorch_model.bin", "not a zip archive"});
  expect_user_error(run_ftengine("convert " + (dir / "m/pytorch_model.bin") + " " + (dir / "x.safetensors")),
                    {"pytorch_model.bin", "not a zip archive"});
}

TEST(CliBadInput, SemicolonFileReadsWithItsDelimiter) {
  FT_REQUIRE_FTENGINE_AND_TINY_MODEL();
  ScratchDir dir("cli_delim");
  std::ofstream out(dir / "semi.csv");
  out << "text;y\n";
  for (int i = 0; i < 20; ++i) out << "tok" << 10 + i << " tok7;" << i % 3 << "\n";
  out.close();
  const CliRun r = run_ftengine("train --data " + (dir / "semi.csv") + " --delimiter ';' --model " +
                                tiny_checkpoint_dir().string() + " --target-column y --max-length 16 --max-steps 1"
                                " --device cpu --output-dir " + (dir / "run"));
  EXPECT_EQ(r.status, 0) << r.out;
}

TEST(CliBadInput, TinyDataSaysWhichSplitIsEmpty) {
  FT_REQUIRE_FTENGINE_AND_TINY_MODEL();
  ScratchDir dir("cli_tiny");
  std::ofstream(dir / "one.csv") << "text,y\ntok5 tok6,1.5\n";
  const CliRun r = run_ftengine("train --data " + (dir / "one.csv") + " --model " + tiny_checkpoint_dir().string() +
                                " --target-column y --max-length 16 --device cpu --output-dir " + (dir / "run"));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("ftengine: warning: the validation split is empty (" + (dir / "one.csv")), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("1 train / 0 valid / 0 test"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ftengine: warning: the test split is empty"), std::string::npos) << r.out;
}

TEST(CliOutputDir, FinishedRunIsKeptUnlessOverwrite) {
  FT_REQUIRE_FTENGINE_AND_TINY_MODEL();
  ScratchDir dir("cli_finished");
  const std::string train = toy_train_args(dir, dir / "run") + " --max-steps 2";
  ASSERT_EQ(run_ftengine(train).status, 0);
  const std::string before = read_file(dir / "run/last/model.safetensors");
  expect_user_error(run_ftengine(train + " --seed 7"), {dir / "run", "another run", "last/ (step 2)", "--overwrite"});
  EXPECT_EQ(read_file(dir / "run/last/model.safetensors"), before) << "the finished run must be untouched";
  const CliRun over = run_ftengine(train + " --seed 7 --overwrite_output_dir");
  EXPECT_EQ(over.status, 0) << over.out;
  EXPECT_NE(read_file(dir / "run/last/model.safetensors"), before);
}

TEST(CliOutputDir, SecondWriterIsRefused) {
  FT_REQUIRE_FTENGINE_AND_TINY_MODEL();
  ScratchDir dir("cli_lock");
  const OutputDirLock held(dir / "run");  // as a running ftengine holds it
  expect_user_error(run_ftengine(toy_train_args(dir, dir / "run") + " --max-steps 1"),
                    {dir / "run", "another ftengine (pid " + std::to_string(::getpid()) + ")"});
}

TEST(CliOutputDir, StaleTemporariesOfAKilledRunAreRemoved) {
  FT_REQUIRE_FTENGINE_AND_TINY_MODEL();
  ScratchDir dir("cli_stale");
  fs::create_directories(dir / "run/best");
  fs::create_directories(dir / "run/.best.staging");
  fs::create_directories(dir / "run/checkpoint-4.partial");
  std::ofstream(dir / "run/best/model.safetensors.tmp.123.0") << "half a model";
  std::ofstream(dir / "run/train_log.jsonl.tmp.123.1") << "half a log";
  std::ofstream(dir / "run/notes.txt") << "the user's own file";
  const CliRun r = run_ftengine(toy_train_args(dir, dir / "run") + " --max-steps 2 --overwrite");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("removed 4 temporary file(s) left by an interrupted run"), std::string::npos) << r.out;
  for (const auto& entry : fs::recursive_directory_iterator(dir / "run")) {
    const std::string name = entry.path().filename().string();
    EXPECT_EQ(name.find(".tmp."), std::string::npos) << entry.path();
    EXPECT_EQ(name.find("staging"), std::string::npos) << entry.path();
    EXPECT_EQ(name.find(".partial"), std::string::npos) << entry.path();
  }
  EXPECT_TRUE(fs::is_regular_file(dir / "run/notes.txt"));
}

TEST(CliFlags, RepeatedFlagTakesItsLastValueAndHfNamesAreAliases) {
  FT_REQUIRE_FTENGINE_AND_TINY_MODEL();
  ScratchDir dir("cli_alias");
  const CliRun r = run_ftengine(toy_train_args(dir, dir / "first") +
                                " --lr 5 --learning_rate 0.002 --num_train_epochs 0.5 --per_device_train_batch_size 4"
                                " --gradient_accumulation_steps 2 --adam_beta1 0.8 --adam_beta2 0.99 --adam_epsilon 1e-7"
                                " --weight_decay 0.01 --max_grad_norm 0.5 --warmup_ratio 0.2 --eval_steps 3"
                                " --logging_steps 2 --save_steps 2 --save_total_limit 2 --seed 5"
                                " --output_dir " + (dir / "run"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_FALSE(fs::exists(dir / "first")) << "--output_dir came last and wins";
  const auto c = nlohmann::json::parse(read_file(dir / "run/run_config.json"));
  // Values as given, not their float widenings (0.8, not 0.800000011920929).
  EXPECT_EQ(c["lr"].dump(), "0.002");
  EXPECT_EQ(c["adamw"]["beta1"].dump(), "0.8");
  EXPECT_EQ(c["adamw"]["beta2"].dump(), "0.99");
  EXPECT_EQ(c["adamw"]["eps"].dump(), "1e-07");
  EXPECT_EQ(c["adamw"]["weight_decay"].dump(), "0.01");
  EXPECT_EQ(c["max_grad_norm"].dump(), "0.5");
  EXPECT_EQ(c["batch_size"].get<int>(), 4);
  EXPECT_EQ(c["grad_accum"].get<int>(), 2);
  EXPECT_EQ(c["eval_every"].get<int>(), 3);
  EXPECT_EQ(c["log_every"].get<int>(), 2);
  EXPECT_EQ(c["seed"].get<int>(), 5);
  // 42 training rows, batch 4: 11 micro-batches, 5 updates per epoch; 0.5 epochs: ceil(2.5) = 3 (HF's rule).
  EXPECT_EQ(c["steps_per_epoch"].get<int>(), 5);
  EXPECT_EQ(c["total_steps"].get<int>(), 3);
  EXPECT_EQ(c["warmup_steps"].get<int>(), 1);
  EXPECT_TRUE(fs::is_directory(dir / "run/checkpoint-2"));
}

// Waits until `file` holds `text`, at most `seconds`.
bool wait_for_text(const std::string& file, const std::string& text, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (read_file(file).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST(CliInterrupt, SigintSavesACheckpointAndTheResumedRunEqualsTheUninterruptedOne) {
  FT_REQUIRE_FTENGINE_AND_TINY_MODEL();
  ScratchDir dir("cli_sigint");
  const std::string csv = write_toy_csv(dir / "toy.csv", 60, 43);
  const std::string common = "train --model " + tiny_checkpoint_dir().string() + " --data " + csv +
                             " --target-column y --split-column split --max-length 32 --device cpu --progress plain"
                             " --max-steps 400 --log-every 20 --eval-every 100";
  ASSERT_EQ(run_ftengine(common + " --output-dir " + (dir / "whole")).status, 0);

  const std::string log = dir / "interrupted.log";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string cmd = "exec " + ftengine_binary().string() + " " + common + " --output-dir " + (dir / "cut") +
                            " >" + log + " 2>&1";
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const bool started = wait_for_text(log, "step 40/400", 60);
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(started) << read_file(log);
  const std::string out = read_file(log);
  ASSERT_TRUE(WIFEXITED(status)) << out;
  if (WEXITSTATUS(status) == 0) GTEST_SKIP() << "the run finished before the signal arrived";
  EXPECT_EQ(WEXITSTATUS(status), 130) << out;
  EXPECT_NE(out.find("finishing the current step"), std::string::npos) << out;
  const size_t at = out.find("resume with: ");
  ASSERT_NE(at, std::string::npos) << out;
  EXPECT_NE(out.find("ftengine: interrupted: stopped by SIGINT after step "), std::string::npos) << out;
  const std::string resume = out.substr(at + 13, out.find('\n', at) - at - 13);
  EXPECT_NE(resume.find("--resume " + (dir / "cut/checkpoint-")), std::string::npos) << resume;

  const CliRun resumed = run_ftengine(resume.substr(resume.find(' ') + 1));  // less the binary's path
  ASSERT_EQ(resumed.status, 0) << resumed.out;
  // Same machine, same threads, same op calls on the same shapes: bitwise (docs/performance.md).
  EXPECT_EQ(read_file(dir / "cut/last/model.safetensors"), read_file(dir / "whole/last/model.safetensors"));
  EXPECT_EQ(read_file(dir / "cut/best/model.safetensors"), read_file(dir / "whole/best/model.safetensors"));
}

}  // namespace
