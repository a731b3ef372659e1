// CookiePolicy: how the install pages read and write their cookies.
//
// Every cookie written is HttpOnly, SameSite=Lax and Path=/, with a Max-Age; when the site is
// served over https it is also Secure and its name carries the __Host- prefix, so a sibling
// subdomain cannot plant or overwrite it. Values written must be cookie-safe text (the callers
// write base64url tokens, digits and '.'). Reading takes the first cookie of that name from the
// request's Cookie header. Immutable after construction; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "http/server/message.h"

namespace wik::install {

class CookiePolicy {
 public:
  explicit CookiePolicy(bool secure) : secure_(secure) {}

  // Returns the value of the cookie `name` in `request`, or nullopt when it has none.
  std::optional<std::string> read(const http::Request& request, std::string_view name) const;
  // Adds a Set-Cookie header to `response` that sets `name` to `value` for `max_age`.
  void write(http::Response& response, std::string_view name, std::string_view value,
             std::chrono::seconds max_age) const;
  // Adds a Set-Cookie header to `response` that deletes the cookie `name`.
  void clear(http::Response& response, std::string_view name) const;

 private:
  std::string full_name(std::string_view name) const;

  bool secure_;
};

}  // namespace wik::install
