// Registering apps with the emulated platform from the files an integration already has: its app
// manifest (app.toml, the kit's format; see src/manifest/manifest.h) and a file holding its secret.
//
// Read from the manifest's top level: id and name (required), publisher, tagline, icon (a PNG path
// relative to the manifest), redirect_url, deauthorize_url and permissions (lower-case codes). Every
// other key is ignored, so the kit's full manifest loads as is. Errors are kConfig and name the
// file and the key; no error shows the secret. Thread-safe; blocking, bounded file reads.
#pragma once

#include <wik/result.h>

#include <filesystem>
#include <string>

#include "emulator/state/platform_state.h"

namespace wik::emulator {

// Returns the app described by `manifest_file`, with `secret` as its app secret.
Result<App> load_app(const std::filesystem::path& manifest_file, std::string secret);

// Returns the secret held in `secret_file`, without one trailing newline. kConfig when the file is
// missing, empty or larger than 4 KiB.
Result<std::string> read_app_secret(const std::filesystem::path& secret_file);

}  // namespace wik::emulator
