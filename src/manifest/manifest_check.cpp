#include "manifest/manifest_check.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <sstream>
#include <utility>

#include "core/printable.h"
#include "core/utf8.h"
#include "http/url.h"
#include "manifest/icon.h"

namespace wik::manifest {
namespace {

constexpr std::size_t kMaxTaglineCharacters = 40;
constexpr std::size_t kMaxDescriptionWords = 50;
constexpr std::uint32_t kIconSide = 1024;

// The platform's webhook objects and fields (PROTOCOL.md §6.5), each with the permission it needs.
struct Topic {
  std::string_view object;
  std::string_view field;
  std::string_view permission;
};
constexpr Topic kTopics[] = {
    {"page", "messages", "message"},           {"page", "messaging_postbacks", "message"},
    {"page", "message_deliveries", "message"}, {"page", "message_reads", "message"},
    {"page", "messaging_optins", "message"},   {"page", "message_echoes", "message"},
    {"page", "mention", "bot_mention"},        {"group", "posts", "read_group"},
    {"group", "comments", "read_group"},       {"group", "membership", "read_group"},
    {"user", "status", "read_user_feed"},      {"user", "events", "read_user_feed"},
    {"user", "message_sends", "read_user_feed"}, {"user", "states", "read_user_feed"},
    {"workplace_security", "admin_activity", "read_security_logs"},
    {"workplace_security", "sessions", "read_security_logs"},
    {"workplace_security", "passwords", "read_security_logs"},
    {"workplace_security", "two_factor", "read_security_logs"},
    {"link", "preview", "link_unfurling"},     {"link", "collection", "link_unfurling"},
};

class Findings {
 public:
  void error(std::string field, std::string message) { add(Severity::kError, std::move(field), std::move(message)); }
  void warning(std::string field, std::string message) { add(Severity::kWarning, std::move(field), std::move(message)); }
  std::vector<Finding> take() && {
    std::stable_partition(findings_.begin(), findings_.end(),
                          [](const Finding& f) { return f.severity == Severity::kError; });
    return std::move(findings_);
  }

 private:
  void add(Severity severity, std::string field, std::string message) {
    findings_.push_back({severity, std::move(field), std::move(message)});
  }
  std::vector<Finding> findings_;
};

std::size_t word_count(const std::string& text) {
  std::istringstream words(text);
  std::size_t count = 0;
  for (std::string word; words >> word;) ++count;
  return count;
}

bool is_loopback(std::string_view host) {
  return host == "localhost" || host == "127.0.0.1" || host == "[::1]" || host == "::1";
}

void check_required(Findings& findings, std::string_view field, const std::string& value) {
  if (value.empty()) findings.error(std::string(field), "missing; the platform's review requires it");
}

void check_url(Findings& findings, std::string_view field, const std::string& value) {
  if (value.empty()) {
    findings.error(std::string(field), "missing; the platform's review requires an https URL");
    return;
  }
  const auto url = http::parse_absolute_url(value);
  if (!url.ok()) {
    findings.error(std::string(field),
                   "\"" + core::printable(value, 80) + "\" is not a valid absolute URL (" + url.error().reason() + ")");
    return;
  }
  if (url->scheme() == "https") return;
  if (url->scheme() == "http" && is_loopback(url->encoded_host())) return;  // local development only
  findings.error(std::string(field), "must use https (http is accepted for a loopback host only), got \"" +
                                         core::printable(value, 80) + "\"");
}

bool looks_like_email(std::string_view text) {
  const auto at = text.find('@');
  const auto dot = text.rfind('.');
  return at != std::string_view::npos && at > 0 && text.find('@', at + 1) == std::string_view::npos &&
         dot != std::string_view::npos && dot > at + 1 && dot + 1 < text.size() &&
         std::none_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) <= ' '; });
}

// The support contact: an email address or an https URL (the bot's help links to it).
void check_support(Findings& findings, const std::string& support) {
  if (support.empty()) {
    findings.error("support", "missing; give a support email address or an https URL (the bot's help links to it)");
  } else if (support.find("://") != std::string::npos) {
    check_url(findings, "support", support);
  } else if (!looks_like_email(support)) {
    findings.error("support", "\"" + core::printable(support, 80) + "\" is neither an email address nor a URL");
  }
}

void check_icon(Findings& findings, const AppManifest& manifest) {
  if (!manifest.icon) {
    findings.error("icon", "missing; give a 1024x1024 PNG with a transparent background");
    return;
  }
  const auto facts = inspect_png(*manifest.icon);
  if (!facts.ok()) {
    findings.error("icon", facts.error().reason());
    return;
  }
  if (facts->width != kIconSide || facts->height != kIconSide) {
    findings.error("icon", "must be 1024x1024 pixels, is " + std::to_string(facts->width) + "x" +
                               std::to_string(facts->height));
  }
  if (!facts->has_alpha) {
    findings.error("icon", "has no alpha channel; the background must be transparent");
  } else if (!facts->transparent_corners) {
    findings.error("icon", "has an opaque background (a corner pixel is not transparent)");
  }
}

void check_texts(Findings& findings, const AppManifest& manifest) {
  if (manifest.id.empty()) {
    findings.error("id", "missing; the app id the platform gave the app");
  } else if (manifest.id.size() > 20 || !std::all_of(manifest.id.begin(), manifest.id.end(),
                                                      [](char c) { return c >= '0' && c <= '9'; })) {
    findings.error("id", "must be the app id, a decimal number written as a string");
  }
  check_required(findings, "name", manifest.name);
  check_required(findings, "publisher", manifest.publisher);
  check_required(findings, "tagline", manifest.tagline);
  if (const auto length = core::utf8_length(manifest.tagline); !length) {
    findings.error("tagline", "is not valid UTF-8");
  } else if (*length > kMaxTaglineCharacters) {
    findings.error("tagline", "has " + std::to_string(*length) + " characters; at most " +
                                  std::to_string(kMaxTaglineCharacters) + " are allowed");
  }
  check_required(findings, "description", manifest.description);
  if (const auto words = word_count(manifest.description); words > kMaxDescriptionWords) {
    findings.error("description", "has " + std::to_string(words) + " words; at most " +
                                      std::to_string(kMaxDescriptionWords) + " are allowed");
  }
  check_support(findings, manifest.support);
  const auto& locale = manifest.default_locale;
  const bool locale_ok = (locale.size() == 2 || (locale.size() == 5 && locale[2] == '_')) &&
                         std::islower(static_cast<unsigned char>(locale[0])) &&
                         std::islower(static_cast<unsigned char>(locale[1])) &&
                         (locale.size() == 2 || (std::isupper(static_cast<unsigned char>(locale[3])) &&
                                                 std::isupper(static_cast<unsigned char>(locale[4]))));
  if (!locale_ok) {
    findings.error("default_locale", "\"" + core::printable(locale) + "\" is not a locale such as en_US");
  }
}

void check_permissions(Findings& findings, const AppManifest& manifest, const CheckOptions& options) {
  const auto withheld = withheld_permissions(options.withheld);
  std::set<std::string> seen;
  for (std::size_t i = 0; i < manifest.permissions.size(); ++i) {
    const auto& permission = manifest.permissions[i];
    const std::string field = "permissions[" + std::to_string(i) + "]";
    if (!known_permissions().contains(permission)) {
      findings.error(field, "\"" + core::printable(permission) + "\" is not a Workplace permission");
    } else if (withheld.contains(permission)) {
      findings.error(field, "\"" + permission + "\" is not available to third-party apps");
    } else if (!seen.insert(permission).second) {
      findings.warning(field, "\"" + permission + "\" is requested twice");
    } else if (options.needed_permissions && !options.needed_permissions->contains(permission)) {
      findings.warning(field, "\"" + permission + "\" is requested but no registered handler needs it; request "
                                                  "only what the app uses, or the review will ask why");
    }
  }
}

void check_webhooks(Findings& findings, const AppManifest& manifest) {
  const std::set<std::string> requested(manifest.permissions.begin(), manifest.permissions.end());
  // Named references rather than a structured binding: clang 14 (the fuzz preset) cannot capture one.
  for (const auto& entry : manifest.webhooks) {
    const std::string& object = entry.first;
    const std::vector<std::string>& fields = entry.second;
    const bool object_known = std::any_of(std::begin(kTopics), std::end(kTopics),
                                          [&](const Topic& t) { return t.object == object; });
    if (!object_known) {
      findings.error("webhooks." + core::printable(object), "is not a webhook object (page, group, user, link, "
                                                           "workplace_security)");
      continue;
    }
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const std::string field = "webhooks." + object + "[" + std::to_string(i) + "]";
      const auto topic = std::find_if(std::begin(kTopics), std::end(kTopics), [&](const Topic& t) {
        return t.object == object && t.field == fields[i];
      });
      if (topic == std::end(kTopics)) {
        findings.error(field, "\"" + core::printable(fields[i]) + "\" is not a field of the " + object + " object");
      } else if (!requested.contains(std::string(topic->permission))) {
        findings.warning(field, object + "/" + fields[i] + " is delivered only with the \"" +
                                    std::string(topic->permission) + "\" permission, which is not requested");
      }
    }
  }
}

}  // namespace

const std::set<std::string>& known_permissions() {
  // PROTOCOL.md §8. read_org_chart, impersonate_account and read_security_logs stand for permissions
  // whose codes no source confirms.
  static const std::set<std::string> kKnown = {
      "read_group",     "write_group",     "read_user_feed",  "write_user_feed",        "bot_mention",
      "manage_group",   "manage_accounts", "manage_badges",   "read_user_email",        "read_user_work_profile",
      "message",        "link_unfurling",  "message_mention", "read_org_chart",         "impersonate_account",
      "read_security_logs",
  };
  return kKnown;
}

std::set<std::string> withheld_permissions(WithheldRule rule) {
  if (rule == WithheldRule::kCurrent) return {"impersonate_account"};
  return {"impersonate_account", "manage_accounts", "read_security_logs"};
}

std::vector<Finding> check_manifest(const AppManifest& manifest, const CheckOptions& options) {
  Findings findings;
  check_texts(findings, manifest);
  check_icon(findings, manifest);
  check_url(findings, "redirect_url", manifest.redirect_url);
  check_url(findings, "deauthorize_url", manifest.deauthorize_url);
  check_url(findings, "marketing_url", manifest.marketing_url);
  check_url(findings, "terms_url", manifest.terms_url);
  check_url(findings, "privacy_url", manifest.privacy_url);
  check_permissions(findings, manifest, options);
  check_webhooks(findings, manifest);
  return std::move(findings).take();
}

std::string to_line(const Finding& finding) {
  return (finding.severity == Severity::kError ? "error: " : "warning: ") + finding.field + ": " + finding.message;
}

bool has_errors(const std::vector<Finding>& findings) {
  return std::any_of(findings.begin(), findings.end(), [](const Finding& f) { return f.severity == Severity::kError; });
}

}  // namespace wik::manifest
