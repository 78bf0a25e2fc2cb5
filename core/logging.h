// Minimal leveled logging to stderr. The level comes from set_log_level() (the CLI's --quiet and
// --verbose) or the FTENGINE_LOG environment variable (error, warn, info, debug).
#pragma once

#include <string>

#include "core/error.h"

namespace ft {

enum class LogLevel { Error = 0, Warn = 1, Info = 2, Debug = 3 };

void set_log_level(LogLevel level);
LogLevel log_level();
void log_message(LogLevel level, const std::string& message);

}  // namespace ft

#define FT_LOG(level, ...)                                                      \
  do {                                                                          \
    if (static_cast<int>(level) <= static_cast<int>(::ft::log_level()))         \
      ::ft::log_message(level, ::ft::detail::concat(__VA_ARGS__));              \
  } while (0)
#define FT_LOG_ERROR(...) FT_LOG(::ft::LogLevel::Error, __VA_ARGS__)
#define FT_LOG_WARN(...) FT_LOG(::ft::LogLevel::Warn, __VA_ARGS__)
#define FT_LOG_INFO(...) FT_LOG(::ft::LogLevel::Info, __VA_ARGS__)
#define FT_LOG_DEBUG(...) FT_LOG(::ft::LogLevel::Debug, __VA_ARGS__)
