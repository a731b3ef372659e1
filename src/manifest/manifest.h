// AppManifest: what an integration declares about itself in app.toml — the metadata Workplace
// shows and reviews (PROTOCOL.md §1.1), the permissions it requests (§8) and the webhook topics and
// fields it subscribes to (§6.5) — and the loader that reads it.
//
// app.toml is a flat TOML file plus one [webhooks] table:
//
//   id = "1111222233334444"            # the app id, a decimal string
//   name = "Helpdesk"
//   icon = "icon.png"                  # relative to app.toml
//   redirect_url = "https://vendor.example/workplace/install"
//   deauthorize_url = "https://vendor.example/workplace/deauthorize"
//   tagline = "Tickets from Work Chat"
//   description = "…"                   # short description
//   publisher = "Example Ltd"
//   marketing_url = "https://vendor.example"
//   terms_url = "https://vendor.example/terms"
//   privacy_url = "https://vendor.example/privacy"
//   support = "support@vendor.example"  # an email address or a URL
//   default_locale = "en_US"
//   permissions = ["message", "bot_mention"]
//   [webhooks]
//   page = ["messages", "messaging_postbacks", "mention"]
//
// Loading checks only the shape (types, unknown keys); what the platform's review demands is
// checked by check_manifest (manifest_check.h), which reports every problem at once.
// Thread-safe; reads files.
#pragma once

#include <wik/result.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wik::manifest {

struct AppManifest {
  std::filesystem::path source;  // the app.toml it was read from
  std::string id;
  std::string name;
  std::optional<std::filesystem::path> icon;  // resolved against the manifest's folder
  std::string redirect_url;
  std::string deauthorize_url;
  std::string tagline;
  std::string description;
  std::string publisher;
  std::string marketing_url;
  std::string terms_url;
  std::string privacy_url;
  std::string support;
  std::string default_locale = "en_US";
  std::vector<std::string> permissions;
  std::map<std::string, std::vector<std::string>> webhooks;  // object → fields
};

// Returns the manifest in `file`, or kConfig naming the key (and line) of the first value of the
// wrong type, an unknown key, or kNotFound/kMalformed when the file is missing or is not TOML.
Result<AppManifest> load_manifest(const std::filesystem::path& file);

// Returns the manifest in the TOML text `text` as load_manifest returns it for `file` (which names
// the source in errors and whose folder the icon path is resolved against; it is not read).
Result<AppManifest> parse_manifest(std::string_view text, const std::filesystem::path& file);

}  // namespace wik::manifest
