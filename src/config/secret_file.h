// Reading the small files configuration comes from: secret files (the app secret, the PostgreSQL
// URL, the key ring) and wik.toml itself. Reads are bounded, so a wrong path (a device, a huge log)
// fails fast instead of filling memory. Errors are kConfig and name the path and the problem, never
// the file's contents. Thread-safe; blocking file I/O.
#pragma once

#include <wik/result.h>
#include <wik/secret.h>

#include <cstddef>
#include <filesystem>
#include <string>

namespace wik::config {

inline constexpr std::size_t kMaxSecretFileSize = 64 * 1024;

// Returns the secret held in `path`, without one trailing "\n" or "\r\n" (so `echo value > file`
// works). kConfig when the file is missing or unreadable, empty, or larger than kMaxSecretFileSize.
Result<Secret> read_secret_file(const std::filesystem::path& path);

// Returns the contents of `path`: kConfig when it cannot be read or holds more than `max_size` bytes.
Result<std::string> read_small_file(const std::filesystem::path& path, std::size_t max_size);

}  // namespace wik::config
