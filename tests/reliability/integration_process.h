// IntegrationProcess: the crash integration (crash_integration.cpp) as a child process that the
// process-fault tests kill and restart (H1), pause and resume (H6), or stop with SIGTERM (H9).
//
// Each start is one life: a new process with a clean environment (WIK_CONFIG and the variables the
// test names only, plus, after the first life, WIK_SERVER_PORT, so that every life listens on the
// port the first one picked, as the platform posts to one callback URL), its standard output and
// error in a log file of its own. No child outlives the test: the destructor kills a running life with SIGKILL and reaps it,
// whatever the test's outcome, and each child asks the kernel to kill it should the test process
// die first (a paused life included). Not thread-safe: one thread (the nemesis) drives it, and
// that thread must outlive the children it starts.
#pragma once

#include <wik/result.h>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace wik::testing {

class IntegrationProcess {
 public:
  // `program` is the crash integration's binary, `config` the file its lives read, `log_dir` where
  // each life's log goes (life-1.log, life-2.log, ...), `arguments` the command line of each life,
  // `environment` more variables (NAME=value) of each life's environment.
  IntegrationProcess(std::filesystem::path program, std::filesystem::path config, std::filesystem::path log_dir,
                     std::vector<std::string> arguments = {}, std::vector<std::string> environment = {});
  ~IntegrationProcess();
  IntegrationProcess(const IntegrationProcess&) = delete;
  IntegrationProcess& operator=(const IntegrationProcess&) = delete;

  // Starts a new life and waits up to `timeout` until it listens; returns its port, or kUnavailable
  // with the end of its log in the detail (a life that did not listen in time is killed).
  // REQUIRES: no life is running.
  Result<std::uint16_t> start(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Kills the running life with SIGKILL and reaps it; does nothing when none is running.
  void crash();
  // Stops the running life with SIGSTOP (it keeps its sockets and claims, and runs nothing), or
  // lets it go on with SIGCONT. REQUIRES: a life is running.
  void pause();
  void resume();
  // Sends SIGTERM to the running life and waits up to `deadline` for it to exit; returns its exit
  // status, or kTimeout (the life is then killed) or kUnavailable when a signal ended it.
  // REQUIRES: a life is running.
  Result<int> terminate(std::chrono::milliseconds deadline);
  // The running life's process id, or 0.
  pid_t pid() const noexcept { return pid_; }
  // Returns the lives started so far.
  int lives() const noexcept { return lives_; }
  // Returns the log of the latest life (for failure messages).
  std::string latest_log() const;

 private:
  std::filesystem::path log_of(int life) const;

  std::filesystem::path program_;
  std::filesystem::path config_;
  std::filesystem::path log_dir_;
  std::vector<std::string> arguments_;
  std::vector<std::string> environment_;
  std::uint16_t port_ = 0;  // 0 until the first life picked one
  pid_t pid_ = 0;           // the running life, or 0
  int lives_ = 0;
};

}  // namespace wik::testing
