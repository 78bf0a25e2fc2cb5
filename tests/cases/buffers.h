// One op case, several modes (as ggml's test-backend-ops): tests/cases/<op>.h says once, for each
// op, which shapes it is tested and benchmarked at, how each input is drawn, and which buffer goes
// into which field of its argument struct (core/ops.h). The modes differ only in where the buffers
// live, which is what this file provides:
//   gradcheck_<op>.cpp  HostBuffers, type double: a check perturbs the inputs in place (host<double>)
//   emulated_<op>.cpp   HostBuffers, float or bf16, optionally misaligned: the CUDA kernels on the CPU
//   parity_<op>.cpp     BackendBuffers on the fp64 CPU oracle, the fp32 CPU and the device
//   bench/<op>.cpp      BackendBuffers on the benchmarked backend
//
// A case's argument builder asks its buffers for
//   in<T>(name, n, range)    an input, drawn from `range` (see draw())
//   ids(name, values)        an integer input the case computes (token ids, lengths)
//   put<T>(name, values)     a real input the case computes (e.g. the statistics of another input)
//   out<T>(name, n)          an output, filled with NaN first: an element the op forgets shows up
//   acc<T>(name, n, range)   an output the op accumulates into (+=), starting from drawn values
// and the test reads results back by name: read(name); values(name) is what an input held.
//
// Every input is drawn from a fixed seed mixed with its name, so a case's inputs are the same in
// every mode and every run. Values are uniform in the range and never within 1e-3 of the range's
// magnitude from zero (an input that is zero hides a missing term), rounded to fp32, and then to the mode's `Rounding` (bf16 in
// the bf16 parity and emulated tests, so every run of a comparison sees the same values).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "core/backend.h"
#include "core/dtype.h"
#include "tests/support/random.h"

namespace ft::cases {

struct Range {
  double lo = -1.0, hi = 1.0;
};

// What the inputs are rounded to before any run sees them.
enum class Rounding { None, Fp32, Bf16 };

template <class T>
T to_value(double x) {
  if constexpr (std::is_same_v<T, bf16>) return bf16::from_float(static_cast<float>(x));
  else return static_cast<T>(x);
}
template <class T>
double from_value(T x) {
  if constexpr (std::is_same_v<T, bf16>) return static_cast<double>(x.to_float());
  else return static_cast<double>(x);
}

inline double round_value(double x, Rounding r) {
  switch (r) {
    case Rounding::None: return x;
    case Rounding::Fp32: return static_cast<double>(static_cast<float>(x));
    case Rounding::Bf16: return static_cast<double>(bf16::from_float(static_cast<float>(x)).to_float());
  }
  return x;
}

template <class T>
constexpr Rounding rounding_of() {
  if constexpr (std::is_same_v<T, bf16>) return Rounding::Bf16;
  else if constexpr (std::is_same_v<T, float>) return Rounding::Fp32;
  else return Rounding::None;
}

inline uint64_t name_seed(const std::string& name, uint64_t seed) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return h ^ (seed * 0x9E3779B97F4A7C15ull);
}

// n values uniform in [lo, hi], never within 1e-3 of zero, rounded to fp32.
inline std::vector<double> draw(const std::string& name, size_t n, Range range, uint64_t seed) {
  test::Rng rng(name_seed(name, seed));
  std::vector<double> v(n);
  // "Near zero" is relative to the range, so a range of small values (AdamW's moments) draws too.
  const double floor = 1e-3 * std::max(std::fabs(range.lo), std::fabs(range.hi));
  const bool spans_zero = range.lo < floor && range.hi > -floor;
  for (double& x : v) {
    do {
      x = static_cast<double>(static_cast<float>(range.lo + (range.hi - range.lo) * rng.uniform()));
    } while (spans_zero && x > -floor && x < floor);
  }
  return v;
}

template <class T>
std::vector<T> nan_values(size_t n) {
  std::vector<T> v(n);
  if constexpr (std::is_same_v<T, bf16>) {
    for (auto& x : v) x.bits = 0x7fc0;
  } else if constexpr (std::is_floating_point_v<T>) {
    for (auto& x : v) x = std::numeric_limits<T>::quiet_NaN();
  }
  return v;
}

// What every kind of buffers offers a case, on top of Derived::store(name, host vector, values): the
// host values of every named buffer and how to read the buffer back.
template <class Derived>
class CaseBuffers {
 public:
  CaseBuffers(uint64_t seed, Rounding rounding) : seed_(seed), rounding_(rounding) {}

  template <class T>
  T* in(const std::string& name, size_t n, Range range = {}) {
    return put<T>(name, drawn(name, n, range));
  }
  template <class T>
  T* put(const std::string& name, const std::vector<double>& values) {
    std::vector<T> host(values.size());
    for (size_t i = 0; i < values.size(); ++i) host[i] = to_value<T>(values[i]);
    return self().store(name, std::move(host), values);
  }
  int32_t* ids(const std::string& name, const std::vector<int32_t>& values) {
    return self().store(name, std::vector<int32_t>(values), std::vector<double>(values.begin(), values.end()));
  }
  template <class T>
  T* out(const std::string& name, size_t n) {
    return self().store(name, nan_values<T>(n), {});
  }
  template <class T>
  T* acc(const std::string& name, size_t n, Range range = {}) {
    return in<T>(name, n, range);
  }

  // What input `name` held when it was made (rounded as the op saw it).
  const std::vector<double>& values(const std::string& name) const { return slot(name).values; }
  // The buffer's contents now, as doubles.
  std::vector<double> read(const std::string& name) const { return slot(name).read(); }
  bool has(const std::string& name) const { return slots_.count(name) != 0; }
  uint64_t seed() const { return seed_; }
  Rounding rounding() const { return rounding_; }

  std::vector<double> drawn(const std::string& name, size_t n, Range range) const {
    std::vector<double> v = draw(name, n, range, seed_);
    for (double& x : v) x = round_value(x, rounding_);
    return v;
  }

 protected:
  struct Slot {
    std::vector<double> values;
    std::function<std::vector<double>()> read;
  };
  Slot& add(const std::string& name) {
    if (slots_.count(name)) throw std::logic_error("test case: buffer \"" + name + "\" made twice");
    return slots_[name];
  }
  const Slot& slot(const std::string& name) const {
    const auto it = slots_.find(name);
    if (it == slots_.end()) throw std::logic_error("test case: no buffer \"" + name + "\"");
    return it->second;
  }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
  uint64_t seed_;
  Rounding rounding_;
  std::map<std::string, Slot> slots_;
};

// Buffers in host memory (std::vector), optionally moved `offset` elements off their alignment.
class HostBuffers : public CaseBuffers<HostBuffers> {
 public:
  explicit HostBuffers(uint64_t seed = 1, Rounding rounding = Rounding::None, int offset = 0)
      : CaseBuffers(seed, rounding), offset_(offset) {}

  // The host vector behind buffer `name` (a gradient check perturbs its elements in place).
  template <class T>
  std::vector<T>& host(const std::string& name) {
    const auto it = vectors_.find(name);
    if (it == vectors_.end() || *it->second.type != typeid(T))
      throw std::logic_error("test case: no host buffer \"" + name + "\" of that type");
    return *static_cast<std::vector<T>*>(it->second.vector.get());
  }

  template <class T>
  T* store(const std::string& name, std::vector<T> host, std::vector<double> values) {
    const size_t n = host.size();
    if (offset_ > 0) host.insert(host.begin(), static_cast<size_t>(offset_), n ? host[0] : T{});
    auto vec = std::make_shared<std::vector<T>>(std::move(host));
    const int offset = offset_;
    Slot& s = add(name);
    s.values = std::move(values);
    s.read = [vec, offset] {
      std::vector<double> out;
      for (size_t i = static_cast<size_t>(offset); i < vec->size(); ++i) out.push_back(from_value((*vec)[i]));
      return out;
    };
    vectors_[name] = {vec, &typeid(T)};
    return vec->data() + offset_;
  }

 private:
  struct Vector {
    std::shared_ptr<void> vector;
    const std::type_info* type;
  };
  int offset_;
  std::map<std::string, Vector> vectors_;
};

// Buffers allocated through a backend (device memory on CUDA), freed with this object.
template <class R>
class BackendBuffers : public CaseBuffers<BackendBuffers<R>> {
 public:
  explicit BackendBuffers(Backend<R>& be, uint64_t seed = 1, Rounding rounding = Rounding::None, int offset = 0)
      : CaseBuffers<BackendBuffers<R>>(seed, rounding), be_(be), offset_(offset) {}

  Backend<R>& backend() { return be_; }

  template <class T>
  T* store(const std::string& name, const std::vector<T>& host, std::vector<double> values) {
    const size_t n = host.size();
    buffers_.emplace_back(be_, static_cast<int64_t>((std::max<size_t>(n, 1) + offset_) * sizeof(T)));
    T* p = reinterpret_cast<T*>(buffers_.back().get()) + offset_;
    if (n) be_.upload(p, host.data(), n * sizeof(T));
    typename CaseBuffers<BackendBuffers<R>>::Slot& s = this->add(name);
    s.values = std::move(values);
    Backend<R>* be = &be_;
    s.read = [be, p, n] {
      std::vector<T> h(n);
      if (n) be->download(h.data(), p, n * sizeof(T));
      std::vector<double> out(n);
      for (size_t i = 0; i < n; ++i) out[i] = from_value(h[i]);
      return out;
    };
    return p;
  }

 private:
  Backend<R>& be_;
  int offset_;
  std::vector<BackendBuffer<unsigned char, R>> buffers_;
};

inline std::string shape_name(std::initializer_list<std::pair<const char*, int64_t>> dims) {
  std::string s;
  for (const auto& [k, v] : dims) {
    if (!s.empty()) s.push_back(' ');
    s.append(k).append("=").append(std::to_string(v));
  }
  return s;
}

}  // namespace ft::cases
