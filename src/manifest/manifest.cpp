#include "manifest/manifest.h"

#include <toml++/toml.h>

#include <functional>
#include <string_view>
#include <utility>

#include "config/secret_file.h"
#include "core/printable.h"

namespace wik::manifest {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxManifestBytes = 256 * 1024;

Error manifest_error(const fs::path& file, const toml::node& node, std::string_view what) {
  return Error(ErrorCode::kConfig, file.string() + ":" + std::to_string(node.source().begin.line) + ": " + std::string(what));
}

// Reads one key of the manifest into the field it fills; kConfig when the node has the wrong type.
using Reader = std::function<Result<void>(AppManifest&, const toml::node&)>;

Reader text(std::string AppManifest::*field) {
  return [field](AppManifest& manifest, const toml::node& node) -> Result<void> {
    const auto* value = node.as_string();
    if (value == nullptr) return manifest_error(manifest.source, node, "expected a string");
    manifest.*field = value->get();
    return ok_result();
  };
}

Result<std::vector<std::string>> text_list(const fs::path& file, const toml::node& node) {
  const auto* array = node.as_array();
  if (array == nullptr) return manifest_error(file, node, "expected an array of strings");
  std::vector<std::string> values;
  for (const auto& element : *array) {
    const auto* value = element.as_string();
    if (value == nullptr) return manifest_error(file, element, "expected an array of strings");
    values.push_back(value->get());
  }
  return values;
}

Result<void> read_icon(AppManifest& manifest, const toml::node& node) {
  const auto* value = node.as_string();
  if (value == nullptr) return manifest_error(manifest.source, node, "expected a string");
  manifest.icon = manifest.source.parent_path() / fs::path(value->get());
  return ok_result();
}

Result<void> read_permissions(AppManifest& manifest, const toml::node& node) {
  auto values = text_list(manifest.source, node);
  if (!values.ok()) return values.error();
  manifest.permissions = std::move(*values);
  return ok_result();
}

Result<void> read_webhooks(AppManifest& manifest, const toml::node& node) {
  const auto* table = node.as_table();
  if (table == nullptr) return manifest_error(manifest.source, node, "webhooks: expected a table of object = [fields]");
  for (const auto& [object, fields] : *table) {
    auto values = text_list(manifest.source, fields);
    if (!values.ok()) return values.error().with_context("webhooks." + core::printable(object.str()));
    manifest.webhooks[std::string(object.str())] = std::move(*values);
  }
  return ok_result();
}

const std::map<std::string, Reader, std::less<>>& readers() {
  static const std::map<std::string, Reader, std::less<>> kReaders = {
      {"id", text(&AppManifest::id)},
      {"name", text(&AppManifest::name)},
      {"icon", read_icon},
      {"redirect_url", text(&AppManifest::redirect_url)},
      {"deauthorize_url", text(&AppManifest::deauthorize_url)},
      {"tagline", text(&AppManifest::tagline)},
      {"description", text(&AppManifest::description)},
      {"publisher", text(&AppManifest::publisher)},
      {"marketing_url", text(&AppManifest::marketing_url)},
      {"terms_url", text(&AppManifest::terms_url)},
      {"privacy_url", text(&AppManifest::privacy_url)},
      {"support", text(&AppManifest::support)},
      {"default_locale", text(&AppManifest::default_locale)},
      {"permissions", read_permissions},
      {"webhooks", read_webhooks},
  };
  return kReaders;
}

}  // namespace

Result<AppManifest> load_manifest(const fs::path& file) {
  std::error_code error;
  if (!fs::exists(file, error)) return Error(ErrorCode::kNotFound, "no manifest at " + file.string());
  auto contents = config::read_small_file(file, kMaxManifestBytes);
  if (!contents.ok()) return contents.error();
  return parse_manifest(*contents, file);
}

Result<AppManifest> parse_manifest(std::string_view text, const fs::path& file) {
  toml::table root;
  try {
    root = toml::parse(text, file.string());
  } catch (const toml::parse_error& e) {
    return Error(ErrorCode::kMalformed, file.string() + ":" + std::to_string(e.source().begin.line) +
                                            ": invalid TOML: " + core::printable(e.description(), 200));
  }

  AppManifest manifest;
  manifest.source = file;
  for (const auto& [key, node] : root) {
    const auto reader = readers().find(key.str());
    if (reader == readers().end()) {
      return manifest_error(file, node, "unknown key " + core::printable(key.str()));
    }
    if (auto read = reader->second(manifest, node); !read.ok()) {
      return read.error().with_context(std::string(key.str()));
    }
  }
  return manifest;
}

}  // namespace wik::manifest
