// Atomic file writes: a file either keeps its old content or gets the complete new content, even
// if the process dies or the machine loses power half way.
//
// The bytes go to a temporary file in the same directory ("<name>.tmp.<pid>.<n>"), which is
// fsync'ed, renamed over the destination, and then the directory is fsync'ed so the rename itself
// is durable. A writer that is destroyed without commit() removes its temporary file.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ft {

class AtomicFileWriter {
 public:
  // Creates the temporary file next to `path`; the directory must exist.
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();  // discards the temporary file unless committed
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const void* data, size_t bytes);
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
  size_t bytes_written() const { return written_; }
  // fsync, rename over the destination, fsync the directory. Errors name the destination.
  void commit();
  const std::string& path() const { return path_; }

 private:
  std::string path_, temp_path_;
  int fd_ = -1;
  size_t written_ = 0;
  bool committed_ = false;
};

// Writes `bytes` to `path` atomically.
void write_file_atomically(const std::string& path, std::string_view bytes);

// Copies the file `from` to `to` atomically (the destination's old content survives a failure).
void copy_file_atomically(const std::string& from, const std::string& to);

// Where a directory `target` is built before replace_directory() puts it in place: beside it, as a
// hidden sibling ("runs/x/best" -> "runs/x/.best.staging"), so that no temporary file is ever
// inside a directory that users load. Stale ones are recognised by is_staging_name().
std::string staging_path(const std::string& target);
bool is_staging_name(const std::string& filename);
// True for AtomicFileWriter's temporary files ("<name>.tmp.<pid>.<n>").
bool is_temp_file_name(const std::string& filename);

// Puts the complete directory `staging` at `target`: an atomic exchange where the filesystem
// supports it (renameat2 RENAME_EXCHANGE), else two renames; the old content is removed after.
// Readers see the old directory or the new one, never a mix.
void replace_directory(const std::string& staging, const std::string& target);

// fsync of a directory, so that renames inside it are durable (an ft::Error if it fails);
// filesystems that cannot fsync a directory (EINVAL) still renamed atomically, which is all that is lost.
void fsync_directory(const std::string& dir);

}  // namespace ft
