#include "config/secret_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <fmt/format.h>

namespace wik::config {
namespace {

Error cannot_read(const std::filesystem::path& path, int error) {
  return Error(ErrorCode::kConfig,
               fmt::format("cannot read {}: {}", path.string(), std::generic_category().message(error)));
}

std::string describe_size(std::size_t bytes) {
  return bytes % 1024 == 0 ? fmt::format("{} KiB", bytes / 1024) : fmt::format("{} bytes", bytes);
}

// Closes its descriptor when it goes out of scope.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

}  // namespace

Result<std::string> read_small_file(const std::filesystem::path& path, std::size_t max_size) {
  const FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) return cannot_read(path, errno);
  // One byte more than allowed, to tell a file of exactly max_size from a larger one.
  std::string contents(max_size + 1, '\0');
  std::size_t size = 0;
  while (size < contents.size()) {
    const ssize_t n = ::read(file.get(), contents.data() + size, contents.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return cannot_read(path, errno);
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  if (size > max_size) {
    return Error(ErrorCode::kConfig, fmt::format("{} is larger than {}", path.string(), describe_size(max_size)));
  }
  contents.resize(size);
  return contents;
}

Result<Secret> read_secret_file(const std::filesystem::path& path) {
  auto contents = read_small_file(path, kMaxSecretFileSize);
  if (!contents) return contents.error();
  std::string& value = *contents;
  if (value.ends_with("\r\n")) {
    value.resize(value.size() - 2);
  } else if (value.ends_with('\n')) {
    value.pop_back();
  }
  if (value.empty()) return Error(ErrorCode::kConfig, fmt::format("{} is empty", path.string()));
  return Secret(std::move(value));
}

}  // namespace wik::config
