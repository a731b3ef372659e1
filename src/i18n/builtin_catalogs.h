// The kit's own catalogs (src/i18n/catalog/<locale>.json), embedded in the binary at build time:
// CMake turns each file into a raw string literal of builtin_catalogs.cpp.
#pragma once

#include <span>
#include <string_view>

namespace wik::i18n {

struct EmbeddedCatalog {
  std::string_view locale;  // the file name without ".json": "fr", "pt_BR"
  std::string_view json;
};

// Returns every embedded catalog, sorted by locale.
std::span<const EmbeddedCatalog> builtin_catalogs() noexcept;

}  // namespace wik::i18n
