// check_manifest: the platform's review rules applied to an AppManifest before a vendor submits
// it, every problem reported at once with the field it concerns (PROTOCOL.md §1.1, §6.5, §8).
//
// Errors: a required field missing; the icon not a readable 1024×1024 PNG, without an alpha
// channel, or with an opaque corner (the background must be transparent); a tagline over 40
// characters; a description over 50 words; a URL that is not https (http is accepted only for a
// loopback host, for development); an unknown permission or one withheld from third-party apps;
// an unknown webhook object or field; an app id that is not a decimal string.
// Warnings (review readiness): a permission no registered handler needs ("request only what you
// need"), and a webhook topic whose permission is not requested.
// Pure apart from reading the icon file; thread-safe.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "manifest/manifest.h"

namespace wik::manifest {

enum class Severity { kError, kWarning };

struct Finding {
  Severity severity;
  std::string field;    // "tagline", "icon", "permissions[2]", "webhooks.page[0]"
  std::string message;  // what is wrong and what to do

  friend bool operator==(const Finding&, const Finding&) = default;
};

// Which permissions the platform withholds from third-party apps (PROTOCOL.md §8, UNCONFIRMED).
enum class WithheldRule {
  kSeedEra,  // default: the 2017 beta's three, inferred: impersonation, account management, security logs
  kCurrent,  // the later docs: impersonation only
};

struct CheckOptions {
  WithheldRule withheld = WithheldRule::kSeedEra;
  // The permissions the registered handlers need; when given, any other requested permission is
  // reported as a warning. nullopt: not known (e.g. `wik manifest check` without the app).
  std::optional<std::set<std::string>> needed_permissions;
};

// Returns every finding, errors before warnings, each in the order of the manifest's fields.
// Empty: ready for review.
std::vector<Finding> check_manifest(const AppManifest& manifest, const CheckOptions& options = {});

// Returns `finding` as one line: "error: tagline: ..." or "warning: permissions[3]: ...".
std::string to_line(const Finding& finding);

// Returns true when `findings` holds at least one error.
bool has_errors(const std::vector<Finding>& findings);

// The permission codes the platform knows (PROTOCOL.md §8), and the ones withheld under `rule`.
const std::set<std::string>& known_permissions();
std::set<std::string> withheld_permissions(WithheldRule rule);

}  // namespace wik::manifest
