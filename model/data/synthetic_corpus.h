// The demo's data: a deterministic, synthetic corpus of short conflict-event reports.
//
// Every report is generated here from templates, word lists and a seed; nothing comes from outside
// the project. Places, armed groups and events are invented. Each report states a death toll (in
// digits or in words, or says nobody died) among distractor numbers (dates, ages, wounded, damaged
// buildings and vehicles, years), and its target is ln(1 + deaths), the transformation the
// ConfliBERT regression studies use. A model must learn which number is the toll: a fine-tuned
// BERT can, a bag of numbers cannot do it reliably.
//
// The texts are synthetic: results on them say nothing about real conflict data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/data/dataset.h"

namespace ft {

struct SyntheticCorpusOptions {
  int64_t rows = 3000;
  uint64_t seed = 2024;
  double valid_fraction = 0.1;  // the rest after valid and test is train
  double test_fraction = 0.1;
};

struct SyntheticReport {
  std::string text;
  int deaths = 0;
};

// Report number `index` of the corpus under `seed` (a pure function of both).
SyntheticReport synthetic_report(uint64_t seed, int64_t index);

// The whole corpus as examples (target = ln(1 + deaths), id "synthetic-<index>") with a fixed
// random split, labelled in Example::split.
Dataset synthetic_conflict_corpus(const SyntheticCorpusOptions& options = {});

// Writes the corpus as CSV (id, split, deaths, ln_deaths, text), RFC 4180 quoting, atomically.
void write_synthetic_corpus_csv(const Dataset& corpus, const std::string& path);

}  // namespace ft
