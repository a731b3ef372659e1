// run_command: runs a shell command line with the given standard input and returns its exit status,
// standard output and standard error. For tests of the wik binary and of other programs.
// spawn_logged: starts a program the test keeps running beside it (a server, an integration).
#pragma once

#include <wik/result.h>

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace wik::testing {

struct CommandResult {
  int exit_status = -1;  // the process's exit status, or -1 if it did not exit normally
  std::string out;
  std::string err;
};

CommandResult run_command(const std::string& command_line, const std::string& standard_input = {});

// Starts `arguments` (the program's path first) as a child process with standard input from
// /dev/null and standard output and error written to `log` (truncated), and asks the kernel to kill
// it should the test process die first. `environment`: the child's whole environment (NAME=value
// each), or nullopt for the test's own. Returns the child's pid, which the caller reaps, or
// kUnavailable when it cannot fork; a child that cannot open its log or run the program exits
// with 127. Safe in a test with threads: between fork and exec the child calls only
// async-signal-safe functions.
Result<pid_t> spawn_logged(std::vector<std::string> arguments, std::optional<std::vector<std::string>> environment,
                           const std::filesystem::path& log);

// Returns `text` quoted for a POSIX shell.
std::string shell_quote(const std::string& text);

}  // namespace wik::testing
