#include "support/command.h"

#include <sys/wait.h>

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
