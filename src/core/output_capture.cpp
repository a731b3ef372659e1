#include "core/output_capture.h"

#if WIK_OUTPUT_CAPTURE

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_set>

namespace wik::core::capture {
namespace {

const char* capture_dir() noexcept {
  const char* dir = std::getenv("WIK_CAPTURE_DIR");
  return dir != nullptr && *dir != '\0' ? dir : nullptr;
}

// The process's two files, opened on first use and again after a fork.
class CaptureFiles {
 public:
  void write(bool secrets, std::string_view type, std::string_view label, std::string_view payload) noexcept {
    try {
      append(secrets, type, label, payload);
    } catch (...) {  // out of memory: this record is lost, the process goes on as it would have
    }
  }

 private:
  void append(bool secrets, std::string_view type, std::string_view label, std::string_view payload) {
    const std::lock_guard lock(mutex_);
    reopen_after_fork();
    if (secrets && !recorded_.insert(std::hash<std::string_view>{}(payload)).second) return;
    std::string record;
    record.reserve(payload.size() + label.size() + 32);
    record.append("@").append(type).append(" ").append(std::to_string(payload.size())).append(" ");
    for (char c : label) record.push_back(c == '\n' || c == '\r' ? ' ' : c);
    record.append("\n").append(payload).append("\n");
    const int fd = secrets ? secrets_fd_ : outputs_fd_;
    for (std::size_t written = 0; fd >= 0 && written < record.size();) {
      const ssize_t n = ::write(fd, record.data() + written, record.size() - written);
      if (n <= 0) break;
      written += static_cast<std::size_t>(n);
    }
  }

  void reopen_after_fork() {
    const pid_t pid = ::getpid();
    if (pid == pid_) return;
    if (outputs_fd_ >= 0) ::close(outputs_fd_);
    if (secrets_fd_ >= 0) ::close(secrets_fd_);
    recorded_.clear();
    pid_ = pid;
    const auto started = std::chrono::steady_clock::now().time_since_epoch();
    const std::string base = std::string(capture_dir()) + "/" + std::to_string(pid) + "-" +
                             std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(started).count());
    constexpr int kFlags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
    outputs_fd_ = ::open((base + ".outputs").c_str(), kFlags, 0600);
    secrets_fd_ = ::open((base + ".secrets").c_str(), kFlags, 0600);
  }

  std::mutex mutex_;
  pid_t pid_ = 0;
  int outputs_fd_ = -1;
  int secrets_fd_ = -1;
  std::unordered_set<std::size_t> recorded_;  // hashes of the secrets this process wrote
};

// Never destroyed, so that Secrets destroyed during static destruction are still recorded.
CaptureFiles& files() {
  static auto* const instance = new CaptureFiles;
  return *instance;
}

}  // namespace

bool enabled() noexcept {
  static const bool on = capture_dir() != nullptr;
  return on;
}

void log_line(std::string_view logger, std::string_view line) noexcept {
  if (enabled()) files().write(false, "log", logger, line);
}

void response(std::string_view server, std::string_view exchange, std::string_view wire) noexcept {
  if (!enabled()) return;
  try {
    std::string label(server.empty() ? "unnamed" : server);
    label.append(" ").append(exchange);
    files().write(false, "response", label, wire);
  } catch (...) {
  }
}

void secret(std::string_view kind, std::string_view value) noexcept {
  if (enabled() && !value.empty()) files().write(true, "secret", kind, value);
}

}  // namespace wik::core::capture

#else  // built without WIK_OUTPUT_CAPTURE: nothing is captured

namespace wik::core::capture {

bool enabled() noexcept { return false; }
void log_line(std::string_view, std::string_view) noexcept {}
void response(std::string_view, std::string_view, std::string_view) noexcept {}
void secret(std::string_view, std::string_view) noexcept {}

}  // namespace wik::core::capture

#endif
