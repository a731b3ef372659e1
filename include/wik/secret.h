// Secret and AccessToken: values that must never be printed.
//
// Both hold their value in memory only, give it out through expose() alone, and render as
// "[redacted]" through operator<<, fmt and spdlog, so a value that slips into a log line or an error
// message shows up as the placeholder. Memory is wiped (OPENSSL_cleanse) when a value is destroyed.
// Copyable and movable; not thread-safe against concurrent mutation (values are normally immutable).
#pragma once

#include <fmt/format.h>

#include <ostream>
#include <string>
#include <string_view>

namespace wik {

inline constexpr std::string_view kRedacted = "[redacted]";

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret& other) : value_(other.value_) {}
  Secret& operator=(const Secret& other);
  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  ~Secret();

  // Returns the secret value. Every call site is a place where the value leaves its wrapper:
  // keep them few (signing, sealing, the Graph call's parameters).
  std::string_view expose() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }
  std::size_t size() const noexcept { return value_.size(); }

  friend bool operator==(const Secret&, const Secret&) = delete;  // compare with constant_time_equal
  friend std::ostream& operator<<(std::ostream& out, const Secret&) { return out << kRedacted; }

 private:
  void wipe() noexcept;
  std::string value_;
};

// A Workplace access token (community install token or app token). A distinct type so that a
// token cannot be passed where an app secret is expected, and vice versa.
class AccessToken {
 public:
  AccessToken() = default;
  explicit AccessToken(std::string value) : secret_(std::move(value)) {}

  std::string_view expose() const noexcept { return secret_.expose(); }
  bool empty() const noexcept { return secret_.empty(); }

  friend std::ostream& operator<<(std::ostream& out, const AccessToken&) { return out << kRedacted; }

 private:
  Secret secret_;
};

}  // namespace wik

template <>
struct fmt::formatter<wik::Secret> : fmt::formatter<std::string_view> {
  auto format(const wik::Secret&, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(wik::kRedacted, ctx);
  }
};

template <>
struct fmt::formatter<wik::AccessToken> : fmt::formatter<std::string_view> {
  auto format(const wik::AccessToken&, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(wik::kRedacted, ctx);
  }
};
