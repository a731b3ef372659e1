#include "reliability/integration_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "support/command.h"

namespace wik::testing {
namespace {

constexpr std::string_view kListening = "crash integration: listening on port ";
constexpr std::size_t kLogTail = 4000;

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string tail(const std::string& text) { return text.size() <= kLogTail ? text : text.substr(text.size() - kLogTail); }

}  // namespace

IntegrationProcess::IntegrationProcess(std::filesystem::path program, std::filesystem::path config,
                                       std::filesystem::path log_dir, std::vector<std::string> arguments,
                                       std::vector<std::string> environment)
    : program_(std::move(program)),
      config_(std::move(config)),
      log_dir_(std::move(log_dir)),
      arguments_(std::move(arguments)),
      environment_(std::move(environment)) {}

IntegrationProcess::~IntegrationProcess() { crash(); }

std::filesystem::path IntegrationProcess::log_of(int life) const {
  return log_dir_ / ("life-" + std::to_string(life) + ".log");
}

std::string IntegrationProcess::latest_log() const { return lives_ == 0 ? std::string() : tail(read_all(log_of(lives_))); }

Result<std::uint16_t> IntegrationProcess::start(std::chrono::milliseconds timeout) {
  ++lives_;
  const std::string log = log_of(lives_).string();
  std::vector<std::string> environment = environment_;
  environment.push_back("WIK_CONFIG=" + config_.string());
  if (port_ != 0) environment.push_back("WIK_SERVER_PORT=" + std::to_string(port_));
  std::vector<std::string> arguments = {program_.string()};
  arguments.insert(arguments.end(), arguments_.begin(), arguments_.end());
  Result<pid_t> spawned = spawn_logged(std::move(arguments), std::move(environment), log);
  if (!spawned) return spawned.error();
  const pid_t pid = *spawned;
  pid_ = pid;

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const std::string printed = read_all(log);
    const std::size_t at = printed.find(kListening);
    if (at != std::string::npos && printed.find('\n', at) != std::string::npos) {
      const auto port = static_cast<std::uint16_t>(std::stoul(printed.substr(at + kListening.size())));
      if (port_ == 0) port_ = port;
      return port;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = 0;
      const std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                                : "was killed by signal " + std::to_string(WTERMSIG(status));
      return Error(ErrorCode::kUnavailable, "life " + std::to_string(lives_) + " of the crash integration " + how +
                                                " at start", tail(printed));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      crash();
      return Error(ErrorCode::kUnavailable,
                   "life " + std::to_string(lives_) + " of the crash integration did not listen in time", tail(printed));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Each signal goes to a running life only: kill(0, …) would reach the test's own process group.
void IntegrationProcess::pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void IntegrationProcess::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

Result<int> IntegrationProcess::terminate(std::chrono::milliseconds deadline) {
  if (pid_ <= 0) return Error(ErrorCode::kInternal, "no life of the crash integration is running");
  ::kill(pid_, SIGTERM);
  const auto give_up_at = std::chrono::steady_clock::now() + deadline;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) != pid_) {
    if (std::chrono::steady_clock::now() >= give_up_at) {
      crash();
      return Error(ErrorCode::kTimeout, "life " + std::to_string(lives_) + " did not exit within " +
                                            std::to_string(deadline.count()) + " ms of SIGTERM", latest_log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = 0;
  if (!WIFEXITED(status)) {
    return Error(ErrorCode::kUnavailable,
                 "life " + std::to_string(lives_) + " was killed by signal " + std::to_string(WTERMSIG(status)),
                 latest_log());
  }
  return WEXITSTATUS(status);
}

void IntegrationProcess::crash() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = 0;
}

}  // namespace wik::testing
