// Fuzz target cookie: a Cookie header as the install pages read it (install::CookiePolicy::read,
// after Beast's parser), for each cookie the kit sets, with the plain names of an http deployment
// and the __Host- names of an https one. Input: the header's value. Checks: a value read is one
// pair's value, trimmed (no ';', no blank at either end); and the first cookie of a name wins, so
// a cookie set ahead of the input is read back unchanged whatever the input holds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "install/cookies.h"
#include "parsed_request.h"

namespace {

// The cookies installer.cpp sets.
constexpr std::string_view kCookieNames[] = {"wik_sessions", "wik_csrf", "wik_pending", "wik_install_as"};
constexpr std::string_view kKnownValue = "kit-set-value.1";

std::string cookie_request(std::string_view cookie_header) {
  return "GET /workplace/install HTTP/1.1\r\nHost: fuzz\r\nCookie: " + std::string(cookie_header) + "\r\n\r\n";
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto request = wik::fuzz::parse_request(cookie_request(input));
  if (!request) return 0;
  for (const bool secure : {false, true}) {
    const wik::install::CookiePolicy cookies(secure);
    for (const std::string_view name : kCookieNames) {
      const auto value = cookies.read(*request, name);
      if (value && (value->find(';') != std::string::npos ||
                    (!value->empty() && (is_blank(value->front()) || is_blank(value->back()))))) {
        std::abort();
      }
      const std::string full_name = (secure ? "__Host-" : "") + std::string(name);
      const auto first = wik::fuzz::parse_request(
          cookie_request(full_name + "=" + std::string(kKnownValue) + "; " + std::string(input)));
      if (first && cookies.read(*first, name) != kKnownValue) std::abort();
    }
  }
  return 0;
}
