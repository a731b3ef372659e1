// TestBrowser: a minimal browser for tests of pages: it sends requests with the http::Client,
// keeps cookies per origin (Set-Cookie name=value, Max-Age=0 deletes), never follows redirects by
// itself, and keeps a transcript of every response so a test can scan all it was sent (for
// example for leaked tokens). route_to() plays a load balancer in front of several servers of one
// site. Not thread-safe; drives the caller's io_context.
#pragma once

#include <boost/asio/io_context.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/client/client.h"

namespace wik::testing {

class TestBrowser {
 public:
  using Fields = std::vector<std::pair<std::string, std::string>>;
  using Headers = std::vector<std::pair<std::string, std::string>>;

  // `base_url` ("http://127.0.0.1:8080") is where relative targets ("/signin") go.
  TestBrowser(boost::asio::io_context& io, http::Client& client, std::string base_url);

  // Sends GET `target` (a path on base_url, or an absolute URL). A failed exchange fails the test
  // and returns status 0.
  http::ClientResponse get(std::string_view target, const Headers& headers = {});
  // Sends POST `target` with `fields` as an application/x-www-form-urlencoded body.
  http::ClientResponse post(std::string_view target, const Fields& fields, const Headers& headers = {});
  // Sends the requests for base_url to the server at `replica_url` ("http://127.0.0.1:8081") from
  // now on, with base_url's cookies, as a load balancer would send them to another replica.
  void route_to(std::string replica_url) { replica_url_ = std::move(replica_url); }

  // Returns the cookie `name` the browser holds for `origin` (default: base_url's), or nullopt.
  std::optional<std::string> cookie(std::string_view name, std::string_view origin = {}) const;
  // Returns every response received, in order.
  const std::vector<http::ClientResponse>& transcript() const noexcept { return transcript_; }

 private:
  http::ClientResponse send(http::ClientRequest request, const Headers& headers);

  boost::asio::io_context& io_;
  http::Client& client_;
  std::string base_url_;
  std::string replica_url_;  // where requests for base_url_ go
  std::map<std::string, std::map<std::string, std::string>, std::less<>> cookies_;  // by origin, then name
  std::vector<http::ClientResponse> transcript_;
};

// Returns "scheme://host:port" of an absolute URL, or "" for a path.
std::string origin_of_url(std::string_view url);

// Returns the value of the first `<input type="hidden" name="{name}" value="…">` of `html` as
// written (not unescaped), or "" when there is none.
std::string hidden_field(std::string_view html, std::string_view name);

// Signs `email` in on `browser` through the kit's sign-in form (GET /signin?next=…, then the POST
// with the browser's CSRF token) and returns the POST's response (303 to `next` on success).
http::ClientResponse sign_in(TestBrowser& browser, const std::string& email, const std::string& password,
                             const std::string& next);

}  // namespace wik::testing
