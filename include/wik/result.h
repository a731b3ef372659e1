// wik::Error and wik::Result<T>: how every expected failure in wik is reported.
//
// A Result holds either a value or an Error. An Error carries an ErrorCode (what kind of
// failure, which also decides the HTTP status in one table), a public reason that is safe to show
// to any caller and never contains a secret, and optional internal detail that may be logged but is
// never rendered. Broken invariants are not Errors: they abort (see wik::fatal).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace wik {

enum class ErrorCode {
  kInvalidArgument,   // a well-formed request asking for something invalid
  kMalformed,         // input that cannot be parsed
  kBadSignature,      // a signature or proof that does not verify
  kUnsupported,       // a well-formed value naming an algorithm, version or kind we do not accept
  kExpired,           // a time-limited value outside its window
  kUnauthenticated,   // a credential is missing
  kPermissionDenied,  // the caller is known but not allowed
  kNotFound,
  kConflict,
  kTooLarge,
  kRateLimited,
  kUnavailable,       // a dependency is down; retrying later may succeed
  kTimeout,
  kConfig,            // a setting is missing or invalid
  kInternal,
};

// Returns the stable lower_snake name of `code` ("bad_signature"), used in logs and error bodies.
std::string_view to_string(ErrorCode code) noexcept;

// Writes `what` to standard error and aborts. For broken invariants only, never for bad input.
[[noreturn]] void fatal(std::string_view what) noexcept;

class Error {
 public:
  // REQUIRES: `reason` is safe to show to an untrusted caller (no secret, no expected signature).
  Error(ErrorCode code, std::string reason, std::string detail = {})
      : code_(code), reason_(std::move(reason)), detail_(std::move(detail)) {}

  ErrorCode code() const noexcept { return code_; }
  const std::string& reason() const noexcept { return reason_; }
  const std::string& detail() const noexcept { return detail_; }

  // Returns this error with `context` prepended to the reason ("server.port: " + reason).
  Error with_context(std::string_view context) const;

  friend bool operator==(const Error&, const Error&) = default;

 private:
  ErrorCode code_;
  std::string reason_;
  std::string detail_;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  // REQUIRES: ok(). Calling these on an error aborts.
  T& value() & { check_ok(); return std::get<0>(state_); }
  const T& value() const& { check_ok(); return std::get<0>(state_); }
  T&& value() && { check_ok(); return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // REQUIRES: !ok().
  const Error& error() const& {
    if (ok()) fatal("wik::Result::error() called on a value");
    return std::get<1>(state_);
  }

 private:
  void check_ok() const {
    if (!ok()) fatal("wik::Result::value() called on an error: " + std::get<1>(state_).reason());
  }

  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }

  // REQUIRES: !ok().
  const Error& error() const& {
    if (ok()) fatal("wik::Result<void>::error() called on success");
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

// Returns a successful Result<void>.
inline Result<void> ok_result() { return {}; }

}  // namespace wik
