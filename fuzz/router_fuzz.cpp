// Fuzz target router: a request line's method and target as the server routes them: parse_target
// (Boost.URL origin-form, percent-decoded path segments, the query decoded as form fields), then
// Router::match over the kit's own route table plus the shapes it lacks (a literal beside a
// parameter, parameters only, the root, PUT/PATCH/DELETE). Input: the method up to the first
// newline, the target after it. Checks the router's contract on every lookup: a match has the
// request's method (or GET answering HEAD), its literals equal the path's segments and each named
// parameter is bound, in order, to its non-empty segment; a miss never lists the request's own
// method as allowed, and lists HEAD whenever it lists GET. And the decoding round-trips: the
// segments re-encoded with percent_encode and the query with encode_form parse back unchanged
// (but for one shape Boost.URL cannot write back, see check_round_trip).
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "http/server/message.h"
#include "http/server/router.h"
#include "http/url.h"

namespace {

namespace beast_http = boost::beast::http;
using wik::http::Request;
using wik::http::Response;
using wik::http::RouteMatch;
using wik::http::Router;

boost::asio::awaitable<Response> unused(Request&) { co_return Response::text("ok"); }

const Router& kit_router() {
  static const Router* router = [] {
    auto* r = new Router();
    // The kit's routes: webhooks/ingest, deauth, install, admin pages, identity links, server health.
    r->get("/workplace/webhook", unused).post("/workplace/webhook", unused).post("/workplace/deauthorize", unused);
    r->get("/workplace/install", unused).get("/workplace/install/confirm", unused);
    r->post("/workplace/install/confirm", unused).get("/signin", unused).post("/signin", unused);
    r->post("/signout", unused).get("/admin", unused).get("/admin/install", unused).post("/admin/install", unused);
    r->get("/admin/communities/{id}", unused).post("/admin/communities/{id}/settings", unused);
    r->post("/admin/replay", unused).get("/link", unused).post("/link", unused);
    r->get("/healthz", unused).get("/readyz", unused).get("/metrics", unused);
    // Shapes the kit's table lacks.
    r->get("/", unused).get("/api/items/new", unused).get("/api/items/{id}", unused).put("/api/items/{id}", unused);
    r->del("/api/items/{id}", unused).patch("/api/{kind}/{id}", unused).get("/{a}/{b}/{c}", unused);
    return r;
  }();
  return *router;
}

bool lists(const RouteMatch& match, beast_http::verb method) {
  return std::find(match.allowed.begin(), match.allowed.end(), method) != match.allowed.end();
}

void check_match(beast_http::verb method, std::span<const std::string> segments, const RouteMatch& match) {
  if (match.route == nullptr) {
    if (lists(match, method) || (lists(match, beast_http::verb::get) && !lists(match, beast_http::verb::head))) {
      std::abort();
    }
    if (match.allow_header().empty() != match.allowed.empty()) std::abort();
    return;
  }
  const auto& route = *match.route;
  if (route.method != method && !(method == beast_http::verb::head && route.method == beast_http::verb::get)) {
    std::abort();
  }
  // "/a/" is matched as "/a" when nothing matches it as it is.
  if (route.segments.size() + 1 == segments.size() && segments.back().empty()) segments = segments.first(route.segments.size());
  if (route.segments.size() != segments.size()) std::abort();
  std::size_t bound = 0;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& pattern = route.segments[i];
    if (!pattern.is_param) {
      if (pattern.text != segments[i]) std::abort();
      continue;
    }
    if (segments[i].empty() || bound >= match.params.size() ||
        match.params.entries()[bound] != wik::http::Params::Entry(pattern.text, segments[i])) {
      std::abort();
    }
    ++bound;
  }
  if (bound != match.params.size()) std::abort();
}

void check_round_trip(const wik::http::Target& target) {
  // Boost.URL reads a leading "/./" as no segment ("/./x" has the segments {"x"}), so segments that
  // start with "." ("/%2E/x", "/././x") are written back as text that reads otherwise.
  if (!target.segments.empty() && target.segments.front() == ".") return;
  std::string encoded;
  for (const auto& segment : target.segments) encoded += "/" + wik::http::percent_encode(segment);
  if (encoded.empty()) encoded = "/";
  if (!target.query.empty()) encoded += "?" + wik::http::encode_form(target.query.entries());
  const auto again = wik::http::parse_target(encoded);
  // The path text is not compared: Boost.URL keeps a leading "/./" in it but not in the segments,
  // which the router reads.
  if (!again.ok() || again->segments != target.segments || again->query.entries() != target.query.entries()) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  const auto method = beast_http::string_to_verb(input.substr(0, newline));
  const auto target = wik::http::parse_target(input.substr(newline + 1));
  if (!target.ok()) return 0;
  check_match(method, target->segments, kit_router().match(method, target->segments));
  check_round_trip(*target);
  return 0;
}
