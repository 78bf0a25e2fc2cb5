// ftengine train: fine-tune a BERT checkpoint for text regression (model/train/trainer.h), with the
// paper's three configurations as presets. Without --data it runs the demo: MiniLM-L6 on
// ftengine's synthetic conflict-event corpus.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "core/error.h"
#include "core/shell_quote.h"
#include "model/train/metrics.h"
#include "model/data/synthetic_corpus.h"
#include "model/train/trainer.h"
#include "tools/commands.h"
#include "tools/data_options.h"
#include "tools/device_options.h"

namespace fs = std::filesystem;

namespace ft::tools {

namespace {

struct Preset {
  const char* name;
  const char* train;
  double lr;
  double epochs;
  int max_length;
  const char* what;
};

// The three configurations of the paper under replication (everything else: HF Trainer defaults).
constexpr Preset kPresets[] = {
    {"restricted", "head", 2e-3, 20, 256, "only the regression head trains; lr 2e-3, 20 epochs, max length 256"},
    {"unrestricted", "all", 2e-5, 10, 256, "every layer trains; lr 2e-5, 10 epochs, max length 256"},
    {"maxlen", "all", 2e-5, 10, 512, "every layer trains; lr 2e-5, 10 epochs, max length 512"},
};

// The demo's settings: small enough to finish in about three minutes on two CPU cores.
struct DemoDefaults {
  int64_t rows = 2000;
  int max_length = 64;
  int batch_size = 16;
  double epochs = 2;
  double lr = 1e-4;
  double warmup_ratio = 0.1;
  int64_t eval_every = 25;
  int64_t log_every = 5;
};

std::string find_demo_model() {
  if (const char* env = std::getenv("FTENGINE_MINILM_DIR")) {
    FT_CHECK(fs::is_regular_file(fs::path(env) / "model.safetensors"), "the demo needs the MiniLM-L6 weights, but "
             "FTENGINE_MINILM_DIR=", env, " holds no model.safetensors; fetch them with: bash tools/fetch_minilm.sh");
    return env;
  }
  const fs::path local = "weights/minilm-l6";
  if (fs::is_regular_file(local / "model.safetensors")) return local.string();
  const fs::path source = fs::path(FTENGINE_SOURCE_DIR) / "weights" / "minilm-l6";
  if (fs::is_regular_file(source / "model.safetensors")) return source.string();
  FT_THROW("the demo needs the MiniLM-L6-H384-uncased weights in weights/minilm-l6 (looked in ", fs::absolute(local).string(),
           " and ", source.string(), "); fetch them with: bash tools/fetch_minilm.sh");
}

struct TrainFlags {
  TrainSettings s;
  DataOptions data;
  std::string valid_data, test_data, split_ratios = "0.8,0.1,0.1", preset, frozen_dropout = "on", progress = "auto";
  float hidden_dropout = 0, attention_dropout = 0, classifier_dropout = 0;
  bool no_shuffle = false, no_feature_cache = false;
  int64_t demo_rows = DemoDefaults{}.rows;
  int64_t split_seed = -1;
};

void print_metrics(const char* name, const RegressionMetrics& m) {
  std::printf("%s metrics (%lld examples): MSE %.4f  RMSE %.4f  MAE %.4f  R^2 %.4f  Pearson r %.4f\n", name,
              static_cast<long long>(m.count), m.mse, m.rmse, m.mae, m.r2, m.pearson);
}

void run(CLI::App& cmd, TrainFlags& f) {
  TrainSettings& s = f.s;
  const auto given = [&](const char* flag) { return cmd.count(flag) > 0; };
  const bool demo = f.data.data.empty();

  if (!f.preset.empty()) {
    const Preset* p = nullptr;
    for (const Preset& q : kPresets)
      if (f.preset == q.name) p = &q;
    FT_CHECK(p, "--preset \"", f.preset, "\" is not restricted, unrestricted or maxlen");
    if (!given("--train")) s.train_groups = p->train;
    if (!given("--lr")) s.lr = p->lr;
    if (!given("--epochs")) s.epochs = p->epochs;
    if (!given("--max-length")) s.max_length = p->max_length;
    std::printf("preset %s: %s\n", p->name, p->what);
  }
  if (given("--hidden-dropout")) s.hidden_dropout = f.hidden_dropout;
  if (given("--attention-dropout")) s.attention_dropout = f.attention_dropout;
  if (given("--classifier-dropout")) s.classifier_dropout = f.classifier_dropout;
  FT_CHECK(f.frozen_dropout == "on" || f.frozen_dropout == "off", "--frozen-dropout \"", f.frozen_dropout,
           "\" is not on or off");
  s.frozen_dropout = f.frozen_dropout == "on";
  s.feature_cache = !f.no_feature_cache;
  s.shuffle = !f.no_shuffle;
  FT_CHECK(f.progress == "auto" || f.progress == "bar" || f.progress == "plain", "--progress \"", f.progress,
           "\" is not auto, bar or plain");
  s.progress = f.progress == "auto" ? ProgressMode::Auto : f.progress == "bar" ? ProgressMode::Bar : ProgressMode::Plain;
  if (!s.resume.empty() && !given("--output-dir")) {
    s.output_dir = fs::is_regular_file(fs::path(s.resume) / "trainer_state.json")
                       ? fs::path(s.resume).parent_path().string()
                       : s.resume;
  }

  DataSplits splits;
  if (demo) {
    FT_CHECK(f.valid_data.empty() && f.test_data.empty(), "--valid-data and --test-data need --data");
    const DemoDefaults d;
    if (s.model.empty()) s.model = find_demo_model();
    if (!given("--max-length") && f.preset.empty()) s.max_length = d.max_length;
    if (!given("--batch-size")) s.batch_size = d.batch_size;
    if (!given("--epochs") && f.preset.empty()) s.epochs = d.epochs;
    if (!given("--lr") && f.preset.empty()) s.lr = d.lr;
    if (!given("--warmup-ratio")) s.warmup_ratio = d.warmup_ratio;
    if (!given("--eval-every")) s.eval_every = d.eval_every;
    if (!given("--log-every")) s.log_every = d.log_every;
    if (s.output_dir.empty()) {
      s.output_dir = "runs/demo";
      // The demo's own directory holds nothing a user made: each demo run replaces the last one.
      if (s.resume.empty()) s.overwrite = true;
    }
    check_train_settings(s);
    FT_CHECK(f.demo_rows >= 10, "--demo-rows ", f.demo_rows, ": must be at least 10 (the corpus is split 80/10/10)");
    SyntheticCorpusOptions co;
    co.rows = f.demo_rows;
    const Dataset corpus = synthetic_conflict_corpus(co);
    std::printf(
        "================================================================================\n"
        " ftengine demo: fine-tuning MiniLM-L6 on SYNTHETIC data\n"
        " The %lld texts are invented conflict-event reports generated by ftengine itself\n"
        " (model/data/synthetic_corpus.cpp): fictional places and groups, a death toll among\n"
        " distractor numbers; target ln(1 + deaths). Results on them say nothing about real\n"
        " conflict data. Real runs: see README.md (UCDP data, ConfliBERT, --preset).\n"
        "================================================================================\n",
        static_cast<long long>(corpus.examples.size()));
    fs::create_directories(s.output_dir);
    const std::string csv = (fs::path(s.output_dir) / "synthetic_corpus.csv").string();
    write_synthetic_corpus_csv(corpus, csv);
    std::printf("the corpus is written to %s\n", csv.c_str());
    std::fflush(stdout);
    splits = split_by_column(corpus);
    splits.how = "synthetic conflict-event corpus, " + std::to_string(corpus.examples.size()) + " reports (" +
                 std::to_string(splits.train.size()) + " train / " + std::to_string(splits.valid.size()) + " valid / " +
                 std::to_string(splits.test.size()) + " test)";
    s.data_label = "SYNTHETIC demo corpus";
  } else {
    FT_CHECK(!s.model.empty(), "no model given: pass --model DIR (an HF BERT directory; see ftengine convert)");
    if (s.output_dir.empty()) s.output_dir = "runs/train";
    check_train_settings(s);
    const Dataset data = read_dataset(f.data.data, f.data.columns(true), f.data.read_options());
    report_skipped_rows(data);
    const bool by_column = !f.data.split_column.empty();
    const bool by_files = !f.valid_data.empty() || !f.test_data.empty();
    FT_CHECK(!(by_column && by_files), "give either --split-column or --valid-data/--test-data, not both");
    FT_CHECK(!(given("--split-ratios") && (by_column || by_files)),
             "--split-ratios splits --data at random; it does not combine with --split-column or --valid-data/--test-data");
    if (by_column) {
      splits = split_by_column(data);
    } else if (by_files) {
      splits.train = data.examples;
      std::string how = data.source + " (train)";
      for (auto [path, part, name] : {std::tuple{&f.valid_data, &splits.valid, "valid"},
                                      std::tuple{&f.test_data, &splits.test, "test"}}) {
        if (path->empty()) continue;
        const Dataset d = read_dataset(*path, f.data.columns(true), f.data.read_options());
        report_skipped_rows(d);
        *part = d.examples;
        how += ", " + d.source + " (" + name + ")";
      }
      splits.how = how;
    } else {
      const std::vector<double> r = parse_split_ratios(f.split_ratios);
      splits = split_by_ratios(data, r[0], r[1], r[2], f.split_seed >= 0 ? static_cast<uint64_t>(f.split_seed) : s.seed);
    }
    for (auto* part : {&splits.train, &splits.valid, &splits.test})
      for (Example& ex : *part)
        if (ex.split == Split::Unassigned) ex.split = part == &splits.train ? Split::Train : part == &splits.valid ? Split::Valid : Split::Test;
    splits.how += " (" + std::to_string(splits.train.size()) + " train / " + std::to_string(splits.valid.size()) +
                  " valid / " + std::to_string(splits.test.size()) + " test)";
    s.data_label = fs::path(f.data.data).filename().string();
  }

  const TrainResult r = train_regressor(s, splits);
  std::printf("\ntrained %lld steps in %.1f s of training", static_cast<long long>(r.steps), r.train_seconds);
  if (r.cache_seconds > 0) std::printf(" (after %.1f s computing the cached encoder outputs)", r.cache_seconds);
  std::printf("%s\n", r.stopped_early ? " (stopped early)" : "");
  if (r.has_valid) print_metrics(("validation (" + r.evaluated_model + " model)").c_str(), r.valid);
  if (r.has_test) print_metrics(("test (" + r.evaluated_model + " model)").c_str(), r.test);
  if (demo) std::printf("(synthetic demo data: these numbers describe the invented corpus only)\n");
  if (!r.best_dir.empty()) std::printf("best model (step %lld): %s\n", static_cast<long long>(r.best_step), r.best_dir.c_str());
  std::printf("last model: %s\n", r.last_dir.c_str());
  std::printf("training log: %s\nmetrics: %s\n", r.log_path.c_str(), r.metrics_path.c_str());
  if (!r.predictions_path.empty()) std::printf("predictions: %s\n", r.predictions_path.c_str());
  std::printf("learning curves: %s\n", r.plot_path.c_str());
}

}  // namespace

void add_train_command(CLI::App& app, int argc, char** argv) {
  auto* cmd = app.add_subcommand(
      "train",
      "Fine-tune a BERT model for regression on a CSV/TSV/JSONL file of texts and numeric targets. Without --data: "
      "the demo, MiniLM-L6 (weights/minilm-l6) on ftengine's synthetic conflict-event corpus, with its own defaults "
      "(2000 reports, --max-length 64, --batch-size 16, --epochs 2, --lr 1e-4, --warmup-ratio 0.1, --eval-every 25, "
      "--log-every 5, --output-dir runs/demo); any flag overrides them.");
  auto f = std::make_shared<TrainFlags>();
  TrainSettings& s = f->s;
  // Data
  f->data.add(*cmd, "Training data (CSV, TSV or JSONL). Without it, the demo runs on the synthetic corpus",
              "Column holding the numeric target");
  cmd->add_option("--valid-data", f->valid_data, "Validation data file (same columns as --data)");
  cmd->add_option("--test-data", f->test_data, "Test data file (same columns as --data)");
  cmd->add_option("--split-ratios", f->split_ratios,
                  "Random train,valid,test fractions of --data when there is no split column or file")
      ->capture_default_str();
  cmd->add_option("--split-seed", f->split_seed, "Seed of the random split (default: --seed)");
  cmd->add_option("--demo-rows", f->demo_rows, "Demo only: reports in the synthetic corpus")->capture_default_str();
  // Model
  cmd->add_option("--model", s.model, "HF BERT model directory (config.json + model.safetensors or pytorch_model.bin), "
                                      "or a weights file. Demo default: weights/minilm-l6");
  cmd->add_option("--model-config", s.model_config, "config.json of a --model weights file stored elsewhere");
  cmd->add_option("--tokenizer", s.tokenizer, "Directory with vocab.txt/tokenizer.json (default: the model's)");
  cmd->add_option("--preset", f->preset,
                  "The paper's configurations: restricted (head only, lr 2e-3, 20 epochs, max length 256), "
                  "unrestricted (all layers, lr 2e-5, 10 epochs, 256), maxlen (all, 2e-5, 10 epochs, 512). "
                  "Flags given explicitly win")
      ->check(CLI::IsMember({"restricted", "unrestricted", "maxlen"}));
  // Optimisation
  // Each flag also answers to HF Trainer's name for it (docs/usage.md, "HF Trainer's flag names").
  cmd->add_option("--epochs,--num_train_epochs", s.epochs, "Training epochs (fractions allowed, as in HF)")
      ->capture_default_str();
  cmd->add_option("--max-steps,--max_steps", s.max_steps, "Optimizer steps in all; > 0 replaces --epochs")
      ->capture_default_str();
  cmd->add_option("--batch-size,--per_device_train_batch_size", s.batch_size, "Examples per micro-batch")
      ->capture_default_str();
  cmd->add_option("--grad-accum,--gradient_accumulation_steps", s.grad_accum,
                  "Micro-batches per optimizer step (gradient accumulation)")
      ->capture_default_str();
  cmd->add_option("--lr,--learning_rate", s.lr, "Peak learning rate (AdamW)")->capture_default_str();
  cmd->add_option("--adam-beta1,--adam_beta1", s.adamw.beta1, "AdamW beta1, in [0, 1)")->capture_default_str();
  cmd->add_option("--adam-beta2,--adam_beta2", s.adamw.beta2, "AdamW beta2, in [0, 1)")->capture_default_str();
  cmd->add_option("--adam-eps,--adam_epsilon", s.adamw.eps, "AdamW epsilon, above 0")->capture_default_str();
  cmd->add_option("--weight-decay,--weight_decay", s.adamw.weight_decay,
                  "AdamW weight decay (>= 0), on all weights but biases and LayerNorm weights (HF's rule)")
      ->capture_default_str();
  cmd->add_option("--warmup-ratio,--warmup_ratio", s.warmup_ratio, "Fraction of the steps with linear warmup, in [0, 1]")
      ->capture_default_str();
  cmd->add_option("--warmup-steps,--warmup_steps", s.warmup_steps, "Warmup steps; > 0 wins over --warmup-ratio")
      ->capture_default_str();
  cmd->add_option("--max-grad-norm,--max_grad_norm", s.max_grad_norm,
                  "Clip the gradients' global L2 norm to this (0: no clipping)")
      ->capture_default_str();
  cmd->add_option("--max-length", s.max_length, "Tokens per text at most ([CLS] and [SEP] included); longer texts "
                                                "are truncated")
      ->capture_default_str();
  cmd->add_option("--hidden-dropout", f->hidden_dropout, "Override the config's hidden_dropout_prob");
  cmd->add_option("--attention-dropout", f->attention_dropout, "Override the config's attention_probs_dropout_prob");
  cmd->add_option("--classifier-dropout", f->classifier_dropout,
                  "Override the head's dropout (the config's classifier_dropout, else hidden_dropout_prob)");
  cmd->add_option("--frozen-dropout", f->frozen_dropout,
                  "on: frozen layers apply dropout as in Hugging Face (train mode); off: they run without it, which "
                  "lets head-only training cache the encoder's outputs")
      ->capture_default_str();
  cmd->add_flag("--no-feature-cache", f->no_feature_cache,
                "Never cache encoder outputs, even where it would give the same result");
  cmd->add_option("--train", s.train_groups,
                  "Trainable groups: all, embeddings, encoder, encoder.N, encoder.A-B, pooler, head (comma-separated)")
      ->capture_default_str();
  cmd->add_option("--freeze", s.freeze_groups, "Groups to freeze after --train (same names)");
  cmd->add_option("--seed", s.seed, "Seed of shuffling, dropout and the new head's initialisation")->capture_default_str();
  cmd->add_flag("--no-shuffle", f->no_shuffle, "Train in file order every epoch");
  cmd->add_flag("--bucket-by-length", s.bucket_by_length,
                "Batch texts of similar length together (less padding, faster; changes the batches)");
  // Evaluation
  cmd->add_option("--eval-every,--eval_steps", s.eval_every, "Evaluate on the validation set every N steps (and at each epoch's "
                                                "end; 0: only there)")
      ->capture_default_str();
  cmd->add_option("--log-every,--logging_steps", s.log_every, "Also log the training loss every N steps (0: only with evaluations)")
      ->capture_default_str();
  cmd->add_option("--eval-batch-size,--per_device_eval_batch_size", s.eval_batch_size, "Examples per evaluation batch")->capture_default_str();
  cmd->add_option("--early-stopping-patience", s.early_stopping_patience,
                  "Stop after this many evaluations without a better validation loss (0: never)")
      ->capture_default_str();
  cmd->add_option("--test-model", s.test_model, "Model behind the test metrics and predictions: best or last")
      ->capture_default_str();
  // Output
  cmd->add_option("--output-dir,--output_dir", s.output_dir, "Where everything goes (default runs/train; the demo: runs/demo)");
  cmd->add_option("--save-every,--save_steps", s.save_every, "Write a resumable checkpoint every N steps (0: never)")
      ->capture_default_str();
  cmd->add_option("--keep-checkpoints,--save_total_limit", s.keep_checkpoints, "Resumable checkpoints kept (the newest)")
      ->capture_default_str();
  cmd->add_option("--resume,--resume_from_checkpoint", s.resume, "Continue from a checkpoint directory, or an output directory's newest "
                                        "checkpoint; the same flags and data are required");
  cmd->add_flag("--overwrite,--overwrite_output_dir", s.overwrite,
                "Replace the outputs of another run (a finished run, or checkpoints) in --output-dir");
  // Device
  add_device_options(*cmd, s.device, s.precision, s.threads);
  cmd->add_option("--progress", f->progress, "auto (a bar on a terminal), bar, or plain lines")->capture_default_str();
  // The command line less any --resume, which the resume hint appends anew.
  std::string command_line;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--resume" || a == "--resume_from_checkpoint") {
      ++i;
      continue;
    }
    if (a.rfind("--resume=", 0) == 0 || a.rfind("--resume_from_checkpoint=", 0) == 0) continue;
    command_line += (command_line.empty() ? "" : " ") + shell_quoted(a);
  }
  cmd->callback([cmd, f, command_line] {
    f->s.command_line = command_line;
    run(*cmd, *f);
  });
}

}  // namespace ft::tools
