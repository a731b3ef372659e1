// run_command: runs a shell command line with the given standard input and returns its exit status,
// standard output and standard error. For tests of the wik binary and of other programs.
#pragma once

#include <string>

namespace wik::testing {

struct CommandResult {
  int exit_status = -1;  // the process's exit status, or -1 if it did not exit normally
  std::string out;
  std::string err;
};

CommandResult run_command(const std::string& command_line, const std::string& standard_input = {});

// Returns `text` quoted for a POSIX shell.
std::string shell_quote(const std::string& text);

}  // namespace wik::testing
