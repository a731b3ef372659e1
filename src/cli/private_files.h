// Files that hold secrets, written as every wik command writes them: created with mode 0600 and
// written whole (fsync'd before they are used), their contents never printed. Shared by
// `wik keys` and `wik demo`. Errors are kConfig naming the file and the system's reason, never
// the contents. Blocking file I/O; thread-safe for distinct files.
#pragma once

#include <wik/result.h>
#include <wik/secret.h>

#include <filesystem>
#include <string>

namespace wik::cli {

// Writes `contents` to `path` with mode 0600; with `replace`, through a temporary file renamed
// over `path` (readers see the old or the new file, never half of one); without, only if `path`
// does not exist yet.
Result<void> write_private_file(const std::filesystem::path& path, const Secret& contents, bool replace);

// Returns the id `wik keys` gives a new key without --id: "k" and the UTC time, k20260131093000.
std::string default_key_id();

// Creates the key ring file `path` (which must not exist) holding one new random key, `key_id`,
// active (docs/key-ring.md). REQUIRES: core::is_valid_key_id(key_id).
Result<void> create_key_ring_file(const std::filesystem::path& path, const std::string& key_id);

}  // namespace wik::cli
