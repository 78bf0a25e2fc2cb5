// Tokenizer throughput on real text: the UCDP Syria headlines (16,566 short texts) and the daily
// digests (1,422 long texts) from ../shared/data/ucdp/, bert-base-uncased and bert-base-cased
// vocabularies (../shared/data/vocab/). Reports bytes/s and texts/s for encode() on one thread and
// encode_batch() on 1 thread (CPU time) and on all cores (wall time); every token is made (no
// truncation), with offsets. bench/tokenizer_hf.py measures Hugging Face
// `tokenizers` on the same texts; bench/run_tokenizer_bench.sh runs both and prints one table.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/tokenizer_csv.h"
#include "tokenizer/bert_tokenizer.h"

namespace {

namespace fs = std::filesystem;

// As tests/support/test_data.h: ../shared/data beside the project, or $FTENGINE_SHARED_DATA.
fs::path shared_data_dir() {
  if (const char* env = std::getenv("FTENGINE_SHARED_DATA")) return env;
  return fs::path(FTENGINE_SOURCE_DIR).parent_path() / "shared" / "data";
}

struct Corpus {
  std::vector<std::string> texts;
  int64_t bytes = 0;
};

const Corpus* corpus(const std::string& name) {
  static std::map<std::string, Corpus> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return &it->second;
  const fs::path file =
      shared_data_dir() / "ucdp" / (name == "headlines" ? "ged_syria_2016_2019.csv" : "ged_syria_daily_digest.csv");
  if (!fs::exists(file)) return nullptr;
  Corpus c;
  c.texts = ft::test::read_csv_column(file.string(), name == "headlines" ? "source_headline" : "text");
  for (const auto& t : c.texts) c.bytes += static_cast<int64_t>(t.size());
  return &cache.emplace(name, std::move(c)).first->second;
}

const ft::BertTokenizer* tokenizer(const std::string& kind) {
  static std::map<std::string, ft::BertTokenizer> cache;
  auto it = cache.find(kind);
  if (it != cache.end()) return &it->second;
  const fs::path vocab = shared_data_dir() / "vocab" / ("bert-base-" + kind + "-vocab.txt");
  if (!fs::exists(vocab)) return nullptr;
  ft::TokenizerOptions o;
  o.lowercase = kind == "uncased";
  return &cache.emplace(kind, ft::BertTokenizer::from_vocab(vocab.string(), o)).first->second;
}

void report(benchmark::State& state, const Corpus& c) {
  state.SetBytesProcessed(state.iterations() * c.bytes);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(c.texts.size()));
}

// encode() one text after another on the calling thread (no truncation: every token is made).
void BM_Encode(benchmark::State& state, std::string data, std::string kind) {
  const Corpus* c = corpus(data);
  const ft::BertTokenizer* tok = tokenizer(kind);
  if (!c || !tok) {
    state.SkipWithError("shared data not present (../shared/data/ucdp, ../shared/data/vocab)");
    return;
  }
  int64_t tokens = 0;
  for (auto _ : state) {
    for (const std::string& t : c->texts) {
      ft::Encoding e = tok->encode(t);
      tokens += static_cast<int64_t>(e.ids.size());
      benchmark::DoNotOptimize(e.ids.data());
    }
  }
  report(state, *c);
  state.counters["tokens/text"] =
      static_cast<double>(tokens) / static_cast<double>(state.iterations() * c->texts.size());
}

// encode_batch() over the whole file; threads 0 means all cores.
void BM_EncodeBatch(benchmark::State& state, std::string data, std::string kind) {
  const Corpus* c = corpus(data);
  const ft::BertTokenizer* tok = tokenizer(kind);
  if (!c || !tok) {
    state.SkipWithError("shared data not present (../shared/data/ucdp, ../shared/data/vocab)");
    return;
  }
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    std::vector<ft::Encoding> out = tok->encode_batch(c->texts, 0, threads);
    benchmark::DoNotOptimize(out.data());
  }
  report(state, *c);
  state.counters["threads"] = threads > 0 ? threads : omp_get_max_threads();
}

void BM_TokenizerLoad(benchmark::State& state) {
  const fs::path vocab = shared_data_dir() / "vocab" / "bert-base-uncased-vocab.txt";
  if (!fs::exists(vocab)) {
    state.SkipWithError("shared data not present (../shared/data/vocab)");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(ft::BertTokenizer::from_vocab(vocab.string()).vocab_size());
}

}  // namespace

BENCHMARK_CAPTURE(BM_Encode, headlines_uncased, std::string("headlines"), std::string("uncased"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, digests_uncased, std::string("digests"), std::string("uncased"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, headlines_cased, std::string("headlines"), std::string("cased"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, digests_cased, std::string("digests"), std::string("cased"))
    ->Unit(benchmark::kMillisecond);
// One thread: CPU time of the calling thread (robust against other load); all cores: wall time.
BENCHMARK_CAPTURE(BM_EncodeBatch, headlines_uncased, std::string("headlines"), std::string("uncased"))
    ->Arg(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeBatch, digests_uncased, std::string("digests"), std::string("uncased"))
    ->Arg(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeBatch, headlines_cased, std::string("headlines"), std::string("cased"))
    ->Arg(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeBatch, digests_cased, std::string("digests"), std::string("cased"))
    ->Arg(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeBatch, headlines_uncased, std::string("headlines"), std::string("uncased"))
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_EncodeBatch, digests_uncased, std::string("digests"), std::string("uncased"))
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_EncodeBatch, headlines_cased, std::string("headlines"), std::string("cased"))
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_EncodeBatch, digests_cased, std::string("digests"), std::string("cased"))
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_TokenizerLoad)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
