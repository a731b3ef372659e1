#include "core/redaction.h"

#include <wik/secret.h>

#include <array>
#include <optional>

namespace wik::core {
namespace {

constexpr std::array<std::string_view, 13> kSensitiveNames = {
    "access_token", "appsecret_proof", "client_secret", "app_secret", "secret",  "code", "signed_request",
    "verify_token", "password",        "session",       "state",      "token",   "key"};

// Authorization header schemes whose credential follows after a space, in lower case.
constexpr std::array<std::string_view, 2> kCredentialSchemes = {"bearer", "oauth"};

bool is_identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

bool ends_plain_value(char c) { return is_space(c) || std::string_view("&\"',;<>").find(c) != std::string_view::npos; }

char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Returns true when `text` starts with `lower_name`, ignoring the case of `text`.
bool starts_with_name(std::string_view text, std::string_view lower_name) {
  if (text.size() < lower_name.size()) return false;
  for (std::size_t i = 0; i < lower_name.size(); ++i) {
    if (to_lower(text[i]) != lower_name[i]) return false;
  }
  return true;
}

// The characters [begin, end) of a value to replace.
struct Span {
  std::size_t begin;
  std::size_t end;
};

std::size_t skip_spaces(std::string_view text, std::size_t i) {
  while (i < text.size() && is_space(text[i])) ++i;
  return i;
}

std::size_t end_of_plain_value(std::string_view text, std::size_t i) {
  while (i < text.size() && !ends_plain_value(text[i])) ++i;
  return i;
}

// Returns the index of the quote that closes the JSON string whose contents start at `i`, or the
// end of `text` when the string is cut off.
std::size_t end_of_json_string(std::string_view text, std::size_t i) {
  while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2u : 1u;
  return std::min(i, text.size());
}

// Returns the value of the parameter whose name ends just before `i`: "=VALUE" or "": "VALUE"".
std::optional<Span> parameter_value(std::string_view text, std::size_t i) {
  if (i >= text.size()) return std::nullopt;
  if (text[i] == '=') {
    const std::size_t begin = i + 1;
    if (begin < text.size() && (text[begin] == '"' || text[begin] == '\'')) {
      const std::size_t close = text.find(text[begin], begin + 1);
      return Span{begin + 1, close == std::string_view::npos ? text.size() : close};
    }
    return Span{begin, end_of_plain_value(text, begin)};
  }
  if (text[i] != '"') return std::nullopt;
  i = skip_spaces(text, i + 1);
  if (i >= text.size() || text[i] != ':') return std::nullopt;
  i = skip_spaces(text, i + 1);
  if (i >= text.size() || text[i] != '"') return std::nullopt;
  return Span{i + 1, end_of_json_string(text, i + 1)};
}

// Returns the credential after the Authorization scheme that ends just before `i`.
std::optional<Span> credential_value(std::string_view text, std::size_t i) {
  std::size_t begin = i;
  while (begin < text.size() && (text[begin] == ' ' || text[begin] == '\t')) ++begin;
  if (begin == i) return std::nullopt;
  return Span{begin, end_of_plain_value(text, begin)};
}

// Returns the sensitive value introduced by a name or scheme starting at `i`, if there is one.
std::optional<Span> sensitive_value_at(std::string_view text, std::size_t i) {
  const std::string_view rest = text.substr(i);
  for (std::string_view name : kSensitiveNames) {
    if (!starts_with_name(rest, name)) continue;
    if (auto value = parameter_value(text, i + name.size())) return value;
  }
  for (std::string_view scheme : kCredentialSchemes) {
    if (!starts_with_name(rest, scheme)) continue;
    if (auto value = credential_value(text, i + scheme.size())) return value;
  }
  return std::nullopt;
}

}  // namespace

std::string redact_secrets(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;  // text[0, copied) is already in `out`
  std::size_t i = 0;
  while (i < text.size()) {
    const bool starts_identifier = is_identifier_char(text[i]) && (i == 0 || !is_identifier_char(text[i - 1]));
    if (starts_identifier) {
      if (const auto value = sensitive_value_at(text, i); value && value->end > value->begin) {
        out.append(text.substr(copied, value->begin - copied)).append(kRedacted);
        copied = i = value->end;
        continue;
      }
    }
    ++i;
  }
  out.append(text.substr(copied));
  return out;
}

}  // namespace wik::core
