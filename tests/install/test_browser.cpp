#include "install/test_browser.h"

#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>

#include "http/url.h"
#include "support/run_coroutine.h"

namespace wik::testing {

std::string origin_of_url(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  return std::string(url.substr(0, url.find('/', scheme + 3)));
}

std::string hidden_field(std::string_view html, std::string_view name) {
  const std::string opening = "<input type=\"hidden\" name=\"" + std::string(name) + "\" value=\"";
  const std::size_t start = html.find(opening);
  if (start == std::string_view::npos) return {};
  const std::size_t value = start + opening.size();
  const std::size_t end = html.find('"', value);
  return end == std::string_view::npos ? std::string() : std::string(html.substr(value, end - value));
}

http::ClientResponse sign_in(TestBrowser& browser, const std::string& email, const std::string& password,
                             const std::string& next) {
  EXPECT_EQ(browser.get("/signin?" + http::encode_form({{"next", next}})).status, 200u);
  return browser.post("/signin", {{"csrf", browser.cookie("wik_csrf").value_or("")},
                                  {"email", email},
                                  {"password", password},
                                  {"next", next}});
}

TestBrowser::TestBrowser(boost::asio::io_context& io, http::Client& client, std::string base_url)
    : io_(io), client_(client), base_url_(std::move(base_url)), replica_url_(base_url_) {}

http::ClientResponse TestBrowser::get(std::string_view target, const Headers& headers) {
  http::ClientRequest request;
  request.url = target.starts_with("/") ? replica_url_ + std::string(target) : std::string(target);
  return send(std::move(request), headers);
}

http::ClientResponse TestBrowser::post(std::string_view target, const Fields& fields, const Headers& headers) {
  http::ClientRequest request;
  request.method = boost::beast::http::verb::post;
  request.url = target.starts_with("/") ? replica_url_ + std::string(target) : std::string(target);
  request.headers.set(boost::beast::http::field::content_type, "application/x-www-form-urlencoded");
  request.body = http::encode_form(fields);
  return send(std::move(request), headers);
}

std::optional<std::string> TestBrowser::cookie(std::string_view name, std::string_view origin) const {
  const auto jar = cookies_.find(origin.empty() ? std::string_view(base_url_) : origin);
  if (jar == cookies_.end()) return std::nullopt;
  const auto found = jar->second.find(std::string(name));
  if (found == jar->second.end()) return std::nullopt;
  return found->second;
}

http::ClientResponse TestBrowser::send(http::ClientRequest request, const Headers& headers) {
  const std::string origin = origin_of_url(request.url);
  auto& jar = cookies_[origin == replica_url_ ? base_url_ : origin];
  std::string cookie_header;
  for (const auto& [name, value] : jar) cookie_header += (cookie_header.empty() ? "" : "; ") + name + "=" + value;
  if (!cookie_header.empty()) request.headers.set(boost::beast::http::field::cookie, cookie_header);
  for (const auto& [name, value] : headers) request.headers.set(name, value);
  auto response = run_coroutine(io_, client_.request(std::move(request)));
  EXPECT_TRUE(response.ok()) << (response.ok() ? "" : response.error().reason());
  if (!response.ok()) return {};
  for (const auto& field : response->headers) {
    if (field.name() != boost::beast::http::field::set_cookie) continue;
    const std::string_view set_cookie = field.value();
    const std::string_view pair = set_cookie.substr(0, set_cookie.find(';'));
    const std::size_t equals = pair.find('=');
    const std::string name(pair.substr(0, equals));
    if (set_cookie.find("Max-Age=0;") != std::string_view::npos) {
      jar.erase(name);
    } else {
      jar[name] = std::string(pair.substr(equals + 1));
    }
  }
  transcript_.push_back(*response);
  return std::move(*response);
}

}  // namespace wik::testing
