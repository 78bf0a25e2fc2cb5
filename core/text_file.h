// Whole-file reads with one wording for their faults: the path, what the file is for, and the
// fault (missing, a directory, unreadable, not JSON). Every reader of a small file uses these.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ft {

// The bytes of `path`; `what` names the file in errors ("config file", "vocabulary file").
std::string read_text_file(const std::string& path, const char* what);

// The JSON document in `path`.
nlohmann::json read_json_file(const std::string& path, const char* what);

}  // namespace ft
