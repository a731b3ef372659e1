// Fuzz target http_request: raw bytes as what a client sends on one connection, through the same
// steps the server takes before a handler runs: Beast's request parser with the server's default
// limits (possibly several pipelined requests), target decoding (Boost.URL), routing, the error
// table, and the body decoders handlers call (form and JSON). Any crash, sanitizer report or abort
// is a finding; wrong input must only ever produce a wik::Error.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/error_status.h"
#include "http/server/message.h"
#include "http/server/options.h"
#include "http/server/router.h"

namespace {

namespace beast_http = boost::beast::http;
using wik::http::Request;
using wik::http::Response;

boost::asio::awaitable<Response> unused(Request&) { co_return Response::text("ok"); }

const wik::http::Router& service_router() {
  static const wik::http::Router* router = [] {
    auto* r = new wik::http::Router();
    r->get("/healthz", unused).get("/api/items/{id}", unused).post("/api/items", unused);
    r->put("/api/items/{id}", unused).del("/api/items/{id}", unused).get("/api/items/new", unused);
    r->post("/form", unused).get("/{a}/{b}/{c}", unused).post("/small", unused, {.max_body_bytes = 16});
    return r;
  }();
  return *router;
}

// Exercises what happens to one parsed request.
void handle(beast_http::request_parser<beast_http::string_body>& parser) {
  auto target = wik::http::parse_target(parser.get().target());
  if (!target.ok()) {
    (void)wik::http::error_response(target.error(), wik::http::ErrorOrigin::kRequestHead);
    return;
  }
  auto match = service_router().match(parser.get().method(), target->segments);
  if (match.route == nullptr) {
    (void)match.allow_header();
    (void)wik::http::error_response(wik::Error(wik::ErrorCode::kNotFound, "no such resource"),
                                    wik::http::ErrorOrigin::kRouting);
    return;
  }
  Request request(parser.release(), std::move(target).value(), match.route->pattern, std::move(match.params), "fuzz");
  (void)request.param("id");
  (void)request.query("q");
  if (auto form = request.form(); !form.ok()) (void)wik::http::error_response(form.error());
  if (auto json = request.json(); !json.ok()) (void)wik::http::error_response(json.error());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const wik::http::ServerOptions limits;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // At most a few pipelined requests per input, as a connection would be served one at a time.
  for (int i = 0; i < 8 && !input.empty(); ++i) {
    beast_http::request_parser<beast_http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
    parser.eager(true);
    boost::system::error_code ec;
    while (!parser.is_done() && !input.empty()) {
      const std::size_t used = parser.put(boost::asio::buffer(input.data(), input.size()), ec);
      input.remove_prefix(used);
      if (ec || used == 0) break;
    }
    if (!parser.is_done()) {
      if (ec == beast_http::error::need_more || (!ec && input.empty())) parser.put_eof(ec);
      if (!parser.is_done()) return 0;
    }
    handle(parser);
  }
  return 0;
}
