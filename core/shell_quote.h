// An argument as a POSIX shell reads it back: bare when it holds only safe characters, else in
// single quotes. For commands that ftengine prints for the user to run (the resume hint).
#pragma once

#include <string>

namespace ft {

inline std::string shell_quoted(const std::string& arg) {
  static const char* const kSafe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%";
  if (!arg.empty() && arg.find_first_not_of(kSafe) == std::string::npos) return arg;
  std::string q = "'";
  for (char c : arg) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace ft
