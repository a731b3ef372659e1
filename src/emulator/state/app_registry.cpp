#include "emulator/state/app_registry.h"

#include <toml++/toml.h>

#include <fstream>
#include <iterator>

namespace wik::emulator {
namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t kMaxManifestBytes = 256 * 1024;
constexpr std::uintmax_t kMaxIconBytes = 5 * 1024 * 1024;
constexpr std::uintmax_t kMaxSecretBytes = 4 * 1024;
constexpr std::string_view kPngSignature = "\x89PNG\r\n\x1a\n";

// Returns the contents of `path`, or kConfig naming `what` when it is missing, unreadable or too big.
Result<std::string> read_bounded(const fs::path& path, std::uintmax_t max_bytes, std::string_view what) {
  std::error_code error;
  const std::uintmax_t size = fs::file_size(path, error);
  if (error) return Error(ErrorCode::kConfig, std::string(what) + " " + path.string() + ": " + error.message());
  if (size > max_bytes) {
    return Error(ErrorCode::kConfig, std::string(what) + " " + path.string() + " is larger than " +
                                         std::to_string(max_bytes) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return Error(ErrorCode::kConfig, "cannot read " + std::string(what) + " " + path.string());
  return contents;
}

Error key_error(const fs::path& file, std::string_view key, std::string_view what) {
  return Error(ErrorCode::kConfig, file.string() + ": " + std::string(key) + ": " + std::string(what));
}

// Reads the string `key` of `root` into `field`; a missing optional key leaves `field` as it is.
Result<void> read_text(const fs::path& file, const toml::table& root, std::string_view key, bool required,
                       std::string& field) {
  const toml::node* node = root.get(key);
  if (node == nullptr) return required ? key_error(file, key, "missing") : ok_result();
  const auto* value = node->as_string();
  if (value == nullptr) return key_error(file, key, "expected a string");
  field = value->get();
  if (required && field.empty()) return key_error(file, key, "must not be empty");
  return ok_result();
}

Result<void> read_permissions(const fs::path& file, const toml::table& root, std::vector<std::string>& permissions) {
  const toml::node* node = root.get("permissions");
  if (node == nullptr) return ok_result();
  const auto* array = node->as_array();
  if (array == nullptr) return key_error(file, "permissions", "expected an array of strings");
  for (const toml::node& element : *array) {
    const auto* value = element.as_string();
    if (value == nullptr) return key_error(file, "permissions", "expected an array of strings");
    permissions.push_back(value->get());
  }
  return ok_result();
}

Result<void> read_icon(const fs::path& file, const toml::table& root, std::string& icon_png) {
  std::string relative;
  if (auto read = read_text(file, root, "icon", false, relative); !read) return read;
  if (relative.empty()) return ok_result();
  auto contents = read_bounded(file.parent_path() / relative, kMaxIconBytes, "icon");
  if (!contents) return key_error(file, "icon", contents.error().reason());
  if (!contents->starts_with(kPngSignature)) return key_error(file, "icon", "not a PNG file");
  icon_png = std::move(contents).value();
  return ok_result();
}

}  // namespace

Result<App> load_app(const fs::path& manifest_file, std::string secret) {
  auto text = read_bounded(manifest_file, kMaxManifestBytes, "app manifest");
  if (!text) return text.error();
  toml::table root;
  try {
    root = toml::parse(*text, manifest_file.string());
  } catch (const toml::parse_error& e) {
    return Error(ErrorCode::kConfig, manifest_file.string() + ":" + std::to_string(e.source().begin.line) +
                                         ": invalid TOML: " + std::string(e.description()));
  }
  App app;
  app.secret = std::move(secret);
  for (const auto& [key, field, required] :
       {std::tuple{"id", &app.id, true}, std::tuple{"name", &app.name, true},
        std::tuple{"publisher", &app.publisher, false}, std::tuple{"tagline", &app.tagline, false},
        std::tuple{"redirect_url", &app.redirect_url, false},
        std::tuple{"deauthorize_url", &app.deauthorize_url, false}}) {
    if (auto read = read_text(manifest_file, root, key, required, *field); !read) return read.error();
  }
  if (auto read = read_permissions(manifest_file, root, app.permissions); !read) return read.error();
  if (auto read = read_icon(manifest_file, root, app.icon_png); !read) return read.error();
  return app;
}

Result<std::string> read_app_secret(const fs::path& secret_file) {
  auto contents = read_bounded(secret_file, kMaxSecretBytes, "app secret file");
  if (!contents) return contents.error();
  std::string secret = std::move(contents).value();
  if (secret.ends_with('\n')) secret.pop_back();
  if (secret.ends_with('\r')) secret.pop_back();
  if (secret.empty()) return Error(ErrorCode::kConfig, "the app secret file " + secret_file.string() + " is empty");
  return secret;
}

}  // namespace wik::emulator
