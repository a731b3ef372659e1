#include "support/command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "support/temp_dir.h"

namespace wik::testing {
namespace {

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

Result<pid_t> spawn_logged(std::vector<std::string> arguments, std::optional<std::vector<std::string>> environment,
                           const std::filesystem::path& log) {
  const std::string log_path = log.string();
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  if (environment) {
    for (std::string& variable : *environment) envp.push_back(variable.data());
    envp.push_back(nullptr);
  }
  char** const child_environment = environment ? envp.data() : environ;

  const pid_t pid = ::fork();
  if (pid < 0) return Error(ErrorCode::kUnavailable, "cannot fork " + arguments.front());
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || in < 0) ::_exit(127);
    ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    ::execve(argv[0], argv.data(), child_environment);
    ::_exit(127);
  }
  return pid;
}

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

CommandResult run_command(const std::string& command_line, const std::string& standard_input) {
  const TempDir dir;
  const auto in = dir.write_file("stdin", standard_input);
  const auto out = dir.path() / "stdout";
  const auto err = dir.path() / "stderr";
  const std::string full = "(" + command_line + ") <" + shell_quote(in.string()) + " >" + shell_quote(out.string()) +
                           " 2>" + shell_quote(err.string());
  const int status = std::system(full.c_str());
  CommandResult result;
  result.exit_status = (status != -1 && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  result.out = read_all(out);
  result.err = read_all(err);
  return result;
}

}  // namespace wik::testing
