#include "model/train/output_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "model/train/training_record.h"

namespace fs = std::filesystem;

namespace ft {

namespace {
constexpr const char* kLockFile = ".ftengine.lock";

bool is_checkpoint_dir_name(const std::string& name) { return name.rfind("checkpoint-", 0) == 0; }
}  // namespace

OutputDirLock::OutputDirLock(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  FT_CHECK(fs::is_directory(dir), dir, ": cannot create the output directory (",
           ec ? ec.message() : "a file of that name exists", ")");
  const std::string path = (fs::path(dir) / kLockFile).string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  FT_CHECK(fd_ >= 0, dir, ": cannot create the lock file ", path, " (", std::strerror(errno), ")");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[32] = {};
    const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    ::close(fd_);
    fd_ = -1;
    FT_CHECK(err != EWOULDBLOCK, dir, ": another ftengine", pid.empty() ? "" : " (pid " + pid + ")",
             " is writing to this output directory; wait for it to finish, or choose another --output-dir");
    FT_THROW(dir, ": cannot lock the output directory (", std::strerror(err), ")");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] const ssize_t n = ::pwrite(fd_, pid.data(), pid.size(), 0);
  }
}

OutputDirLock::~OutputDirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

std::string describe_finished_run(const std::string& dir) {
  std::error_code ec;
  const fs::path d(dir);
  std::string what;
  const auto add = [&](const std::string& s) { what += (what.empty() ? "" : ", ") + s; };
  if (fs::is_directory(d / "last", ec)) {
    std::string step;
    try {
      if (const auto record = read_training_record((d / "last").string())) step = " (step " + std::to_string(record->step) + ")";
    } catch (const Error&) {  // a damaged record still names the directory
    }
    add("last/" + step);
  }
  if (fs::is_directory(d / "best", ec)) add("best/");
  if (fs::is_regular_file(d / "metrics.json", ec)) add("metrics.json");
  if (fs::is_regular_file(d / "predictions.csv", ec)) add("predictions.csv");
  return what;
}

void remove_previous_run(const std::string& dir) {
  std::error_code ec;
  for (const char* name : kRunOutputs) fs::remove_all(fs::path(dir) / name, ec);
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (is_checkpoint_dir_name(entry.path().filename().string()) && entry.is_directory()) fs::remove_all(entry.path(), ec);
}

int remove_stale_temporaries(const std::string& dir) {
  int removed = 0;
  std::error_code ec;
  const auto sweep = [&](const fs::path& where, bool top) {
    if (!fs::is_directory(where, ec)) return;
    for (const auto& entry : fs::directory_iterator(where, ec)) {
      const std::string name = entry.path().filename().string();
      const bool partial_checkpoint =
          top && is_checkpoint_dir_name(name) && name.size() > 8 && name.compare(name.size() - 8, 8, ".partial") == 0;
      if (is_temp_file_name(name) || (top && is_staging_name(name)) || partial_checkpoint) {
        fs::remove_all(entry.path(), ec);
        ++removed;
      }
    }
  };
  sweep(dir, true);
  sweep(fs::path(dir) / "best", false);
  sweep(fs::path(dir) / "last", false);
  return removed;
}

}  // namespace ft
