#include "core/error.h"

#include <cstring>

namespace ft::detail {

namespace {
// Source paths are shortened to the part below the project root, so locations stay readable.
const char* project_relative(const char* file) {
  for (const char* top : {"/core/", "/cuda/", "/model/", "/tokenizer/", "/tools/", "/tests/", "/bench/"}) {
    if (const char* p = std::strstr(file, top)) return p + 1;
  }
  return file;
}
}  // namespace

void throw_error(const std::string& message, const char* file, int line) {
  throw Error(message, concat(project_relative(file), ":", line));
}

void throw_check_failed(const char* expression, const std::string& message, const char* file, int line) {
  const std::string where = concat("check ", expression, " at ", project_relative(file), ":", line);
  if (message.empty()) throw Error(concat("internal check failed: ", expression), where);
  throw Error(message, where);
}

}  // namespace ft::detail
