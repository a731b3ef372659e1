// Router: maps a method and a decoded path to a route handler.
//
// Patterns are absolute paths whose segments are literals or named parameters: "/api/items/{id}".
// A parameter matches exactly one non-empty decoded segment (so "%2F" inside a segment never
// splits it). When several patterns match a path, the one with a literal at the first differing
// segment wins ("/items/new" beats "/items/{id}"). A path that matches a pattern but not its
// method yields the allowed methods (for 405 and its Allow header); a GET route also answers
// HEAD. Registering an invalid or duplicate pattern is a programming error and aborts.
//
// Handlers are coroutines: either `awaitable<Response>(Request&)` or
// `awaitable<Result<Response>>(Request&)`; an Error is answered through the error table. Handlers
// that need state should be plain (non-coroutine) callables that call a coroutine taking that state
// by reference or value: `[&store](Request& r) { return get_item(store, r); }` — never a capturing
// coroutine lambda. Routes are added before the server starts; afterwards the router is only read,
// so lookups are thread-safe.
#pragma once

#include <wik/result.h>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>

#include <concepts>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "http/server/message.h"

namespace wik::http {

using Handler = std::function<boost::asio::awaitable<Result<Response>>(Request&)>;

// Settings that differ per route; unset fields take the server's Limits.
struct RouteOptions {
  // The largest request body this route accepts, in bytes; a larger one is answered 413.
  std::optional<std::size_t> max_body_bytes;
};

struct Route {
  boost::beast::http::verb method;
  std::string pattern;
  struct Segment {
    std::string text;  // the literal, or the parameter name
    bool is_param;
  };
  std::vector<Segment> segments;
  Handler handler;
  RouteOptions options;
};

// The outcome of a lookup: a route and its bound parameters, or (route == nullptr) the methods the
// path allows, empty when no pattern matches the path at all.
struct RouteMatch {
  const Route* route = nullptr;
  Params params;
  std::vector<boost::beast::http::verb> allowed;

  // Returns the value for an Allow header ("GET, HEAD, POST").
  std::string allow_header() const;
};

class Router {
 public:
  Router() = default;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Adds a route. REQUIRES: `pattern` starts with '/', has no empty segment except a lone "/",
  // its parameter names are unique and non-empty, and (method, pattern) is not yet registered.
  Router& add(boost::beast::http::verb method, std::string_view pattern, Handler handler,
              RouteOptions options = {});

  // Adds a route whose handler returns a plain Response.
  template <class F>
    requires std::is_invocable_r_v<boost::asio::awaitable<Response>, F&, Request&>
  Router& add(boost::beast::http::verb method, std::string_view pattern, F handler, RouteOptions options = {}) {
    return add(method, pattern,
               Handler([handler = std::move(handler)](Request& request) mutable {
                 return lift(handler(request));
               }),
               options);
  }

  template <class F>
  Router& get(std::string_view pattern, F handler, RouteOptions options = {}) {
    return add(boost::beast::http::verb::get, pattern, std::move(handler), options);
  }
  template <class F>
  Router& post(std::string_view pattern, F handler, RouteOptions options = {}) {
    return add(boost::beast::http::verb::post, pattern, std::move(handler), options);
  }
  template <class F>
  Router& put(std::string_view pattern, F handler, RouteOptions options = {}) {
    return add(boost::beast::http::verb::put, pattern, std::move(handler), options);
  }
  template <class F>
  Router& patch(std::string_view pattern, F handler, RouteOptions options = {}) {
    return add(boost::beast::http::verb::patch, pattern, std::move(handler), options);
  }
  template <class F>
  Router& del(std::string_view pattern, F handler, RouteOptions options = {}) {
    return add(boost::beast::http::verb::delete_, pattern, std::move(handler), options);
  }

  // Returns the route for `method` and the decoded path `segments` (see parse_target()). A path
  // with a trailing slash that no pattern matches is matched as the path without it ("/a/" as "/a").
  RouteMatch match(boost::beast::http::verb method, std::span<const std::string> segments) const;

  const std::vector<std::unique_ptr<Route>>& routes() const noexcept { return routes_; }

 private:
  static boost::asio::awaitable<Result<Response>> lift(boost::asio::awaitable<Response> response);
  RouteMatch match_exactly(boost::beast::http::verb method, std::span<const std::string> segments) const;

  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace wik::http
