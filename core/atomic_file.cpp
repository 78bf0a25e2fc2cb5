#include "core/atomic_file.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/error.h"

namespace ft {

namespace {
std::string parent_dir(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}


std::atomic<unsigned> g_temp_counter{0};
}  // namespace

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  FT_CHECK(!path_.empty(), "atomic write: empty destination path");
  for (int attempt = 0; attempt < 100 && fd_ < 0; ++attempt) {
    temp_path_ = path_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(g_temp_counter++);
    fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0 && errno != EEXIST) break;
  }
  FT_CHECK(fd_ >= 0, path_, ": cannot create temporary file ", temp_path_, " (", std::strerror(errno), ")");
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_path_.c_str());
}

void AtomicFileWriter::write(const void* data, size_t bytes) {
  FT_CHECK(fd_ >= 0 && !committed_, path_, ": write after commit");
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd_, p, bytes);
    if (n < 0 && errno == EINTR) continue;
    FT_CHECK(n > 0, path_, ": write failed after ", written_, " bytes (", std::strerror(errno), ")");
    p += n;
    bytes -= static_cast<size_t>(n);
    written_ += static_cast<size_t>(n);
  }
}

void AtomicFileWriter::commit() {
  FT_CHECK(fd_ >= 0 && !committed_, path_, ": commit called twice");
  FT_CHECK(::fsync(fd_) == 0, path_, ": fsync failed (", std::strerror(errno), ")");
  const int rc = ::close(fd_);
  fd_ = -1;
  FT_CHECK(rc == 0, path_, ": close failed (", std::strerror(errno), ")");
  FT_CHECK(::rename(temp_path_.c_str(), path_.c_str()) == 0, path_, ": cannot rename ", temp_path_,
           " into place (", std::strerror(errno), ")");
  committed_ = true;
  fsync_directory(parent_dir(path_));
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  AtomicFileWriter w(path);
  w.write(bytes);
  w.commit();
}

void copy_file_atomically(const std::string& from, const std::string& to) {
  std::FILE* in = std::fopen(from.c_str(), "rb");
  FT_CHECK(in, from, ": cannot open for copying (", std::strerror(errno), ")");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> guard(in, std::fclose);
  AtomicFileWriter w(to);
  std::vector<char> buffer(1 << 20);
  for (;;) {
    const size_t n = std::fread(buffer.data(), 1, buffer.size(), in);
    if (n > 0) w.write(buffer.data(), n);
    if (n < buffer.size()) {
      FT_CHECK(!std::ferror(in), from, ": read error while copying to ", to);
      break;
    }
  }
  w.commit();
}

std::string staging_path(const std::string& target) {
  std::filesystem::path t = std::filesystem::path(target).lexically_normal();
  if (t.filename().empty()) t = t.parent_path();  // "dir/" -> "dir"
  std::string name = ".";
  name += t.filename().string();
  name += ".staging";
  return (t.parent_path() / name).string();
}

bool is_staging_name(const std::string& filename) {
  const auto ends_with = [&](const std::string& suffix) {
    return filename.size() > suffix.size() + 1 &&
           filename.compare(filename.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return filename[0] == '.' && (ends_with(".staging") || ends_with(".staging.old"));
}

bool is_temp_file_name(const std::string& filename) {
  // <name>.tmp.<digits>.<digits>
  const size_t at = filename.rfind(".tmp.");
  if (at == std::string::npos || at == 0) return false;
  const std::string rest = filename.substr(at + 5);
  const size_t dot = rest.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == rest.size()) return false;
  for (size_t i = 0; i < rest.size(); ++i)
    if (i != dot && (rest[i] < '0' || rest[i] > '9')) return false;
  return true;
}

void replace_directory(const std::string& staging, const std::string& target) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string parent = parent_dir(target);
  if (!fs::exists(target, ec)) {
    FT_CHECK(::rename(staging.c_str(), target.c_str()) == 0, target, ": cannot move ", staging, " into place (",
             std::strerror(errno), ")");
  } else if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
    fs::remove_all(staging, ec);  // now the old content
  } else {
    // No exchange on this filesystem: move the old one aside first. A crash in between leaves the
    // new directory in staging and the old one aside; the next run removes both (is_staging_name).
    const std::string aside = staging + ".old";
    fs::remove_all(aside, ec);
    FT_CHECK(::rename(target.c_str(), aside.c_str()) == 0, target, ": cannot move the old directory aside (",
             std::strerror(errno), ")");
    FT_CHECK(::rename(staging.c_str(), target.c_str()) == 0, target, ": cannot move ", staging, " into place (",
             std::strerror(errno), ")");
    fs::remove_all(aside, ec);
  }
  fsync_directory(parent);
}

void fsync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  FT_CHECK(fd >= 0, dir, ": cannot open the directory to make a rename in it durable (", std::strerror(errno), ")");
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  // Some filesystems do not support fsync on directories (EINVAL); the rename is still atomic.
  FT_CHECK(rc == 0 || err == EINVAL, dir, ": fsync of the directory failed (", std::strerror(err), ")");
}

}  // namespace ft
