#include "core/error.h"

#include <cstring>

namespace ft::detail {

namespace {
// Source paths are shortened to the part below the project root, so messages stay readable.
const char* project_relative(const char* file) {
  for (const char* top : {"/core/", "/cuda/", "/model/", "/tokenizer/", "/tools/", "/tests/", "/bench/"}) {
    if (const char* p = std::strstr(file, top)) return p + 1;
  }
  return file;
}
}  // namespace

void throw_error(const std::string& message, const char* file, int line) {
  throw Error(concat(message, " [", project_relative(file), ":", line, "]"));
}

void throw_check_failed(const char* expression, const std::string& message, const char* file, int line) {
  if (message.empty()) throw Error(concat("check failed: ", expression, " [", project_relative(file), ":", line, "]"));
  throw Error(concat(message, " [check ", expression, " at ", project_relative(file), ":", line, "]"));
}

}  // namespace ft::detail
