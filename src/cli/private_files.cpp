#include "cli/private_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "core/key_ring.h"

namespace wik::cli {

Result<void> write_private_file(const std::filesystem::path& path, const Secret& contents, bool replace) {
  const std::filesystem::path target = replace ? std::filesystem::path(path.string() + ".tmp") : path;
  const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error(ErrorCode::kConfig, fmt::format("cannot create {}: {}", target.string(), std::strerror(errno)));
  }
  const std::string_view bytes = contents.expose();
  const bool written = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (written && (!replace || ::rename(target.c_str(), path.c_str()) == 0)) return ok_result();
  const std::string why = std::strerror(errno);
  std::filesystem::remove(target);
  return Error(ErrorCode::kConfig, fmt::format("cannot write {}: {}", path.string(), why));
}

std::string default_key_id() {
  return fmt::format("k{:%Y%m%d%H%M%S}", std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

Result<void> create_key_ring_file(const std::filesystem::path& path, const std::string& key_id) {
  return write_private_file(path, core::KeyRing::generate(key_id).serialize(), false);
}

}  // namespace wik::cli
