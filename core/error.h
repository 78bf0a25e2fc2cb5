// The one checked-error family of ftengine.
//
// Every failure becomes an ft::Error (a std::runtime_error) whose message says what went wrong in
// words a user can act on. Two kinds of message:
//   - FT_THROW / FT_CHECK: for faults of the input (a file, a flag, a shape). The message must name
//     the file or thing and the fault. The source location is kept apart (Error::where()): users
//     see it only with FTENGINE_DEBUG=1 (docs/errors.md).
//   - FT_CUDA_CHECK / FT_CUBLAS_CHECK (cuda/cuda_check.h): a failed library call,
//     named by its expression, file and line.
// Messages are built from any streamable arguments: FT_CHECK(n > 0, path, ": empty tensor ", name).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace ft {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, std::string where = {})
      : std::runtime_error(what), where_(std::move(where)) {}
  // Where it was raised, for developers: "model/train/trainer.cpp:216", or "check <expr> at <file>:<line>".
  const std::string& where() const { return where_; }

 private:
  std::string where_;
};

// The job stopped on SIGINT / SIGTERM (core/interrupt.h) after saving what it could; the message says
// what was saved and how to continue. The process exits with 128 + signal.
class Interrupted : public Error {
 public:
  Interrupted(const std::string& what, int signal) : Error(what), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

namespace detail {

template <class... Args>
std::string concat(Args&&... args) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(args));
  return os.str();
}

[[noreturn]] void throw_error(const std::string& message, const char* file, int line);
[[noreturn]] void throw_check_failed(const char* expression, const std::string& message, const char* file,
                                     int line);

}  // namespace detail
}  // namespace ft

// Throws ft::Error with the concatenated message.
#define FT_THROW(...) ::ft::detail::throw_error(::ft::detail::concat(__VA_ARGS__), __FILE__, __LINE__)

// Throws ft::Error unless cond holds; the message should name the thing and the fault.
#define FT_CHECK(cond, ...)                                                                          \
  do {                                                                                               \
    if (!(cond)) [[unlikely]]                                                                        \
      ::ft::detail::throw_check_failed(#cond, ::ft::detail::concat("" __VA_OPT__(, ) __VA_ARGS__), \
                                       __FILE__, __LINE__);                                          \
  } while (0)
