// Fuzz target manifest: an app.toml as `wik manifest check` reads it: parse_manifest (toml++ and
// the manifest's shape rules), then check_manifest under both withheld-permission rules, with and
// without the permissions the handlers need, and to_line on every finding. The icon is dropped
// before the check: check_manifest would read a file the input names, and PNG decoding is not what
// this target feeds. Checks: no crash and no exception escapes; errors come before warnings; and
// has_errors agrees with the findings.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "manifest/manifest.h"
#include "manifest/manifest_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wik::manifest;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto manifest = parse_manifest(input, "/fuzz/app.toml");
  if (!manifest.ok()) return 0;
  manifest->icon.reset();
  const std::optional<std::set<std::string>> needed_options[] = {std::nullopt, std::set<std::string>{"message"}};
  for (const auto withheld : {WithheldRule::kSeedEra, WithheldRule::kCurrent}) {
    for (const auto& needed : needed_options) {
      const auto findings = check_manifest(*manifest, {.withheld = withheld, .needed_permissions = needed});
      bool seen_warning = false;
      bool seen_error = false;
      for (const auto& finding : findings) {
        if (finding.severity == Severity::kError && seen_warning) std::abort();
        seen_warning = seen_warning || finding.severity == Severity::kWarning;
        seen_error = seen_error || finding.severity == Severity::kError;
        if (to_line(finding).empty()) std::abort();
      }
      if (has_errors(findings) != seen_error) std::abort();
    }
  }
  return 0;
}
