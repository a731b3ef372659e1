#include "install/cookies.h"

#include <boost/beast/http/field.hpp>

#include <fmt/format.h>

namespace wik::install {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<std::string> CookiePolicy::read(const http::Request& request, std::string_view name) const {
  const auto header = request.header("Cookie");
  if (!header) return std::nullopt;
  const std::string wanted = full_name(name);
  std::string_view rest = *header;
  while (!rest.empty()) {
    const std::size_t end = rest.find(';');
    const std::string_view pair = trim(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    const std::size_t equals = pair.find('=');
    if (equals != std::string_view::npos && trim(pair.substr(0, equals)) == wanted) {
      return std::string(trim(pair.substr(equals + 1)));
    }
  }
  return std::nullopt;
}

void CookiePolicy::write(http::Response& response, std::string_view name, std::string_view value,
                         std::chrono::seconds max_age) const {
  response.message().insert(boost::beast::http::field::set_cookie,
                            fmt::format("{}={}; Max-Age={}; Path=/; HttpOnly; SameSite=Lax{}", full_name(name), value,
                                        max_age.count(), secure_ ? "; Secure" : ""));
}

void CookiePolicy::clear(http::Response& response, std::string_view name) const {
  write(response, name, "", std::chrono::seconds(0));
}

std::string CookiePolicy::full_name(std::string_view name) const {
  return secure_ ? fmt::format("__Host-{}", name) : std::string(name);
}

}  // namespace wik::install
