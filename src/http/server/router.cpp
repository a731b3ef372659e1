#include "http/server/router.h"

#include <algorithm>

namespace wik::http {
namespace {

namespace beast_http = boost::beast::http;

std::vector<Route::Segment> split_pattern(std::string_view pattern) {
  if (pattern.empty() || pattern.front() != '/') fatal("route pattern must start with '/': " + std::string(pattern));
  std::vector<Route::Segment> segments;
  if (pattern == "/") return segments;
  std::string_view rest = pattern.substr(1);
  while (true) {
    const std::size_t slash = rest.find('/');
    const std::string_view text = rest.substr(0, slash);
    if (text.empty()) fatal("route pattern has an empty segment: " + std::string(pattern));
    if (text.front() == '{') {
      if (text.size() < 3 || text.back() != '}' || text.substr(1, text.size() - 2).find_first_of("{}/") !=
                                                        std::string_view::npos) {
        fatal("route pattern has a malformed parameter: " + std::string(pattern));
      }
      const std::string name(text.substr(1, text.size() - 2));
      for (const auto& existing : segments) {
        if (existing.is_param && existing.text == name) {
          fatal("route pattern repeats a parameter: " + std::string(pattern));
        }
      }
      segments.push_back({name, true});
    } else {
      if (text.find_first_of("{}") != std::string_view::npos) {
        fatal("route pattern has a malformed segment: " + std::string(pattern));
      }
      segments.push_back({std::string(text), false});
    }
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return segments;
}

bool matches(const Route& route, std::span<const std::string> segments) {
  if (route.segments.size() != segments.size()) return false;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& pattern = route.segments[i];
    if (pattern.is_param ? segments[i].empty() : pattern.text != segments[i]) return false;
  }
  return true;
}

// Returns true when `a` is more specific than `b`: a literal at the first segment where they differ.
bool more_specific(const Route& a, const Route& b) {
  for (std::size_t i = 0; i < a.segments.size() && i < b.segments.size(); ++i) {
    if (a.segments[i].is_param != b.segments[i].is_param) return !a.segments[i].is_param;
  }
  return false;
}

}  // namespace

std::string RouteMatch::allow_header() const {
  std::string header;
  for (const auto method : allowed) {
    if (!header.empty()) header += ", ";
    header += beast_http::to_string(method);
  }
  return header;
}

Router& Router::add(beast_http::verb method, std::string_view pattern, Handler handler, RouteOptions options) {
  if (!handler) fatal("route handler is empty: " + std::string(pattern));
  auto route = std::make_unique<Route>();
  route->method = method;
  route->pattern = std::string(pattern);
  route->segments = split_pattern(pattern);
  route->handler = std::move(handler);
  route->options = options;
  for (const auto& existing : routes_) {
    if (existing->method == method && existing->pattern == route->pattern) {
      fatal("route registered twice: " + std::string(pattern));
    }
  }
  routes_.push_back(std::move(route));
  return *this;
}

RouteMatch Router::match(beast_http::verb method, std::span<const std::string> segments) const {
  RouteMatch exact = match_exactly(method, segments);
  if (exact.route != nullptr || !exact.allowed.empty() || segments.empty() || !segments.back().empty()) return exact;
  return match_exactly(method, segments.first(segments.size() - 1));
}

RouteMatch Router::match_exactly(beast_http::verb method, std::span<const std::string> segments) const {
  const Route* best = nullptr;
  const Route* best_get = nullptr;  // serves HEAD when no HEAD route matches
  std::vector<beast_http::verb> allowed;
  for (const auto& route : routes_) {
    if (!matches(*route, segments)) continue;
    if (std::find(allowed.begin(), allowed.end(), route->method) == allowed.end()) allowed.push_back(route->method);
    if (route->method == method) {
      if (best == nullptr || more_specific(*route, *best)) best = route.get();
    } else if (method == beast_http::verb::head && route->method == beast_http::verb::get) {
      if (best_get == nullptr || more_specific(*route, *best_get)) best_get = route.get();
    }
  }
  if (best == nullptr) best = best_get;
  RouteMatch result;
  if (best == nullptr) {
    if (std::find(allowed.begin(), allowed.end(), beast_http::verb::get) != allowed.end() &&
        std::find(allowed.begin(), allowed.end(), beast_http::verb::head) == allowed.end()) {
      allowed.push_back(beast_http::verb::head);
    }
    std::sort(allowed.begin(), allowed.end(), [](beast_http::verb a, beast_http::verb b) {
      return beast_http::to_string(a) < beast_http::to_string(b);
    });
    result.allowed = std::move(allowed);
    return result;
  }
  result.route = best;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (best->segments[i].is_param) result.params.add(best->segments[i].text, segments[i]);
  }
  return result;
}

boost::asio::awaitable<Result<Response>> Router::lift(boost::asio::awaitable<Response> response) {
  co_return co_await std::move(response);
}

}  // namespace wik::http
