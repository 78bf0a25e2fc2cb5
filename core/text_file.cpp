#include "core/text_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace ft {

std::string read_text_file(const std::string& path, const char* what) {
  std::error_code ec;
  FT_CHECK(std::filesystem::exists(path, ec), path, ": the ", what, " does not exist");
  FT_CHECK(!std::filesystem::is_directory(path, ec), path, ": is a directory, not a ", what);
  std::ifstream in(path, std::ios::binary);
  FT_CHECK(in.good(), path, ": cannot open the ", what, " (", std::strerror(errno), ")");
  std::ostringstream os;
  os << in.rdbuf();
  FT_CHECK(!in.bad(), path, ": error reading the ", what);
  return os.str();
}

nlohmann::json read_json_file(const std::string& path, const char* what) {
  const std::string text = read_text_file(path, what);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    FT_THROW(path, ": not valid JSON (the ", what, "; ", e.what(), ")");
  }
}

}  // namespace ft
