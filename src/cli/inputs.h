// Inputs shared by the wik commands: secrets from a file or an environment variable (never from
// an argument, which other users of the machine can read in the process list), standard input,
// and the one way commands report a failed Result.
#pragma once

#include <wik/result.h>
#include <wik/secret.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace wik::cli {

// Returns the secret in `file` when given, else in the environment variable `env_name`;
// kConfig naming both places when neither holds it.
Result<Secret> secret_from_file_or_env(const std::optional<std::filesystem::path>& file, const char* env_name,
                                       std::string_view what);

// Returns all of standard input, up to `limit` bytes (kTooLarge beyond).
Result<std::string> read_standard_input(std::size_t limit);

// Prints "wik: <context>: <reason>" on standard error and returns `exit_code`.
int report(const Error& error, std::string_view context, int exit_code);

}  // namespace wik::cli
