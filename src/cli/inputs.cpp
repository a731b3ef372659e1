#include "cli/inputs.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "config/secret_file.h"

namespace wik::cli {

Result<Secret> secret_from_file_or_env(const std::optional<std::filesystem::path>& file, const char* env_name,
                                       std::string_view what) {
  if (file) return config::read_secret_file(*file);
  if (const char* value = std::getenv(env_name); value != nullptr && *value != '\0') return Secret(value);
  return Error(ErrorCode::kConfig, std::string(what) + " is required: give its file with the option or set " + env_name);
}

Result<std::string> read_standard_input(std::size_t limit) {
  std::string text;
  char buffer[4096];
  while (std::cin.read(buffer, sizeof buffer) || std::cin.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(std::cin.gcount()));
    if (text.size() > limit) return Error(ErrorCode::kTooLarge, "standard input is larger than " + std::to_string(limit) + " bytes");
  }
  return text;
}

int report(const Error& error, std::string_view context, int exit_code) {
  std::fprintf(stderr, "wik: %.*s: %s\n", static_cast<int>(context.size()), context.data(), error.reason().c_str());
  return exit_code;
}

}  // namespace wik::cli
