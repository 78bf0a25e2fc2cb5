#include "model/data/synthetic_corpus.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <string_view>

#include "core/atomic_file.h"
#include "core/error.h"
#include "model/data/permutation.h"

namespace ft {

namespace {

// Philox stream of the corpus; the counter word is the report's index (low 32 bits).
constexpr uint32_t kCorpusStream = 0x5A0F0100u;

// Invented names: the corpus describes no real place, group or event.
constexpr std::array<std::string_view, 40> kTowns = {
    "Karvel",    "Ostrana",   "Dunmere",  "Velhaven",  "Sarkot",    "Moravin",  "Tesh Amal", "Brenholt",
    "Qaryat Nur", "Esselby",  "Falcora",  "Garamsk",   "Hollin",    "Istrova",  "Jebel Tor", "Kessarin",
    "Lomba",     "Marrowick", "Nadrik",   "Orvalle",   "Pellago",   "Ruskan",   "Sidi Ferran", "Tamsa",
    "Ulvor",     "Varnet",    "Wadi Selm", "Yarrow Cross", "Zentha", "Abrun",   "Belkora",   "Corvash",
    "Drumlin",   "Elbany",    "Fenwick Bay", "Gorsk",  "Harrowgate", "Imbala", "Juvet",     "Kalmar Rise"};
constexpr std::array<std::string_view, 12> kProvinces = {"Northern", "Eastern", "Lakeland", "Highland",
                                                          "Coastal",  "Central", "Western",  "Delta",
                                                          "Upper Valley", "Border", "Southern", "Plateau"};
constexpr std::array<std::string_view, 14> kArmedGroups = {
    "the Northern Liberation Front", "the Red Hills militia",     "government forces",
    "the Army of the Dawn",          "unidentified gunmen",       "rebel fighters",
    "security forces",               "the Free Valley Brigade",   "a local militia",
    "the Coastal Defence Units",     "insurgents",                "the People's Resistance Army",
    "armed men on motorcycles",      "the Southern Shield group"};
constexpr std::array<std::string_view, 12> kVictims = {"civilians", "soldiers",   "police officers", "militants",
                                                        "villagers", "aid workers", "fighters",        "worshippers",
                                                        "traders",   "farmers",    "students",        "people"};
constexpr std::array<std::string_view, 12> kVictim = {"civilian", "soldier",    "police officer", "militant",
                                                       "villager", "aid worker", "fighter",        "worshipper",
                                                       "trader",   "farmer",     "student",        "person"};
constexpr std::array<std::string_view, 12> kEvents = {
    "an airstrike",     "a car bomb",       "a roadside bomb", "heavy shelling",  "clashes",
    "an ambush",        "a suicide attack", "a drone strike",  "artillery fire",  "a mortar attack",
    "an attack",        "a raid"};
constexpr std::array<std::string_view, 8> kPlaces = {"a market", "a checkpoint", "a mosque", "a school",
                                                     "a bus station", "a village", "an army post", "a camp"};
constexpr std::array<std::string_view, 8> kSources = {"local officials", "a hospital source", "residents",
                                                      "the provincial governor", "a monitoring group",
                                                      "the health ministry", "witnesses", "a police spokesman"};
constexpr std::array<std::string_view, 12> kMonths = {"January", "February", "March",     "April",   "May",      "June",
                                                      "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<std::string_view, 20> kUnits = {
    "zero",    "one",     "two",       "three",    "four",     "five",    "six",       "seven",     "eight",    "nine",
    "ten",     "eleven",  "twelve",    "thirteen", "fourteen", "fifteen", "sixteen",   "seventeen", "eighteen", "nineteen"};
constexpr std::array<std::string_view, 10> kTens = {"",      "",      "twenty",  "thirty", "forty",
                                                    "fifty", "sixty", "seventy", "eighty", "ninety"};

class Draw {
 public:
  Draw(uint64_t seed, int64_t index) : rng_(seed, kCorpusStream, static_cast<uint32_t>(index)) {}
  int between(int lo, int hi) { return lo + static_cast<int>(rng_.below(static_cast<uint64_t>(hi - lo + 1))); }
  bool chance(double p) { return static_cast<double>(rng_.next_u32() >> 8) / 16777216.0 < p; }
  template <size_t N>
  std::string pick(const std::array<std::string_view, N>& a) {
    return std::string(a[rng_.below(N)]);
  }

 private:
  PhiloxSequence rng_;
};

std::string number_words(int n) {
  if (n < 20) return std::string(kUnits[static_cast<size_t>(n)]);
  if (n < 100) {
    std::string r(kTens[static_cast<size_t>(n / 10)]);
    if (n % 10) r += "-" + std::string(kUnits[static_cast<size_t>(n % 10)]);
    return r;
  }
  return std::to_string(n);
}

// A count as the report writes it: digits mostly, words for small or round numbers sometimes.
std::string count_text(Draw& d, int n) {
  if (n < 100 && d.chance(n <= 12 ? 0.5 : 0.25)) return number_words(n);
  return std::to_string(n);
}

std::string capitalise(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string date_text(Draw& d) {
  const std::string month = d.pick(kMonths);
  const int day = d.between(1, 28);
  switch (d.between(0, 2)) {
    case 0: return "on " + std::to_string(day) + " " + month;
    case 1: return "on " + month + " " + std::to_string(day) + ", " + std::to_string(d.between(2011, 2023));
    default: return "early on " + std::to_string(day) + " " + month;
  }
}

std::string place_text(Draw& d) {
  if (d.chance(0.4)) return d.pick(kTowns) + " in " + d.pick(kProvinces) + " province";
  return d.pick(kTowns);
}

// Deaths: one report in seven has none; the rest are log-uniform on 1..300, so ln(1 + deaths) is
// spread over 0..5.7 rather than piled up at small counts.
int draw_deaths(Draw& d) {
  if (d.chance(1.0 / 7.0)) return 0;
  const double u = static_cast<double>(d.between(0, 1 << 20)) / static_cast<double>(1 << 20);
  return static_cast<int>(std::floor(std::exp(u * std::log(301.0))));
}

// The sentence that states the toll (deaths >= 1).
std::string toll_sentence(Draw& d, int deaths) {
  const std::string place = place_text(d), event = d.pick(kEvents), group = d.pick(kArmedGroups);
  const std::string date = date_text(d), source = d.pick(kSources);
  const size_t victim = static_cast<size_t>(d.between(0, static_cast<int>(kVictims.size()) - 1));
  const std::string many(kVictims[victim]), one(kVictim[victim]);
  const std::string n = count_text(d, deaths);
  const int wounded = d.between(0, 3 * deaths + 10);
  if (deaths == 1) {
    switch (d.between(0, 3)) {
      case 0: return capitalise(event) + " killed one " + one + " in " + place + " " + date + ", " + source + " said.";
      case 1: return "A " + one + " was killed when " + group + " opened fire in " + place + " " + date + ".";
      case 2: return "One " + one + " died and " + count_text(d, wounded) + " were wounded in " + event + " near " +
                     d.pick(kPlaces) + " in " + place + ".";
      default: return "A " + std::to_string(d.between(17, 70)) + "-year-old " + one + " was killed in " + event +
                      " in " + place + " " + date + ".";
    }
  }
  switch (d.between(0, 7)) {
    case 0: return capitalise(event) + " killed " + n + " " + many + " in " + place + " " + date + ", " + source + " said.";
    case 1: return capitalise(n) + " " + many + " were killed when " + group + " attacked " + d.pick(kPlaces) + " near " +
                   place + ".";
    case 2: return "At least " + n + " people died in " + event + " in " + place + " " + date + "; " +
                   count_text(d, wounded) + " others were wounded.";
    case 3: return capitalise(group) + " claimed to have killed " + n + " " + many + " in an ambush on a convoy of " +
                   std::to_string(d.between(2, 40)) + " vehicles outside " + place + ".";
    case 4: return "The death toll from " + event + " in " + place + " rose to " + n + ", " + source + " said " +
                   date + ".";
    case 5: return "A " + std::to_string(d.between(17, 70)) + "-year-old " + one + " was among " + n +
                   " people killed in " + event + " in " + place + ".";
    case 6: return capitalise(event) + " on " + d.pick(kPlaces) + " in " + place + " left " + n + " dead and " +
                   count_text(d, wounded) + " injured.";
    default: return capitalise(source) + " reported " + n + " deaths after " + group + " clashed with " +
                    d.pick(kArmedGroups) + " in " + place + " " + date + ".";
  }
}

std::string no_death_sentence(Draw& d) {
  const std::string place = place_text(d), event = d.pick(kEvents), date = date_text(d);
  switch (d.between(0, 3)) {
    case 0: return capitalise(event) + " damaged " + std::to_string(d.between(2, 60)) + " buildings in " + place + " " +
                   date + "; no casualties were reported.";
    case 1: return capitalise(d.pick(kArmedGroups)) + " fired on " + d.pick(kPlaces) + " in " + place +
                   " but nobody was killed, " + d.pick(kSources) + " said.";
    case 2: return "No one died in " + event + " in " + place + " " + date + ", although " +
                   count_text(d, d.between(1, 30)) + " people were wounded.";
    default: return capitalise(event) + " destroyed " + count_text(d, d.between(2, 25)) + " vehicles near " + place +
                    " without loss of life.";
  }
}

// Context without a toll, full of numbers that must not be read as one.
std::string context_sentence(Draw& d) {
  switch (d.between(0, 5)) {
    case 0: return "Residents said " + std::to_string(d.between(2, 80)) + " homes were destroyed.";
    case 1: {
      constexpr std::array<std::string_view, 6> kOrdinals = {"second", "third", "fourth", "fifth", "sixth", "seventh"};
      return "It was the " + d.pick(kOrdinals) + " attack in the area this month.";
    }
    case 2: return "The area has seen fighting since " + d.pick(kMonths) + " " + std::to_string(d.between(2011, 2022)) + ".";
    case 3: return "About " + std::to_string(d.between(2, 90) * 100) + " families have fled the district.";
    case 4: return "There was no claim of responsibility from " + d.pick(kArmedGroups) + ".";
    default: return "Roads " + std::to_string(d.between(3, 60)) + " kilometres north of the town were closed.";
  }
}

}  // namespace

SyntheticReport synthetic_report(uint64_t seed, int64_t index) {
  Draw d(seed, index);
  SyntheticReport r;
  r.deaths = draw_deaths(d);
  r.text = r.deaths > 0 ? toll_sentence(d, r.deaths) : no_death_sentence(d);
  if (d.chance(0.5)) {
    // Context before or after the toll, so its position varies.
    const std::string ctx = context_sentence(d);
    r.text = d.chance(0.5) ? ctx + " " + r.text : r.text + " " + ctx;
  }
  return r;
}

Dataset synthetic_conflict_corpus(const SyntheticCorpusOptions& options) {
  FT_CHECK(options.rows >= 10, "synthetic corpus: ", options.rows, " rows are too few (at least 10)");
  FT_CHECK(options.rows <= (int64_t{1} << 31), "synthetic corpus: ", options.rows, " rows are too many");
  Dataset data;
  data.source = "synthetic conflict-event corpus (seed " + std::to_string(options.seed) + ")";
  data.has_targets = true;
  data.rows = options.rows;
  for (int64_t i = 0; i < options.rows; ++i) {
    const SyntheticReport r = synthetic_report(options.seed, i);
    Example ex;
    ex.row = i;
    ex.line = i + 2;  // as in the CSV that write_synthetic_corpus_csv writes (header on line 1)
    char id[32];
    std::snprintf(id, sizeof id, "synthetic-%05lld", static_cast<long long>(i));
    ex.id = id;
    ex.text = r.text;
    ex.target = std::log1p(static_cast<double>(r.deaths));
    data.examples.push_back(std::move(ex));
  }
  const DataSplits s = split_by_ratios(data, 1.0 - options.valid_fraction - options.test_fraction,
                                       options.valid_fraction, options.test_fraction, options.seed);
  for (const auto* part : {&s.train, &s.valid, &s.test})
    for (const Example& ex : *part) data.examples[static_cast<size_t>(ex.row)].split = ex.split;
  return data;
}

void write_synthetic_corpus_csv(const Dataset& corpus, const std::string& path) {
  std::string out = "id,split,deaths,ln_deaths,text\n";
  char num[64];
  for (const Example& ex : corpus.examples) {
    const long deaths = std::lround(std::expm1(ex.target));
    std::snprintf(num, sizeof num, "%ld,%.6f", deaths, ex.target);
    out += csv_field(ex.id) + "," + split_name(ex.split) + "," + num + "," + csv_field(ex.text) + "\n";
  }
  write_file_atomically(path, out);
}

}  // namespace ft
