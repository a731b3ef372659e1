// Google Benchmark for the HTTP router: target parsing and route matching, the per-request work
// that happens before a handler runs.
#include <benchmark/benchmark.h>

#include <boost/asio/awaitable.hpp>

#include <string>
#include <vector>

#include "http/server/router.h"

namespace {

using boost::beast::http::verb;
using wik::http::Request;
using wik::http::Response;
using wik::http::Router;

boost::asio::awaitable<Response> handler(Request&) { co_return Response::text("ok"); }

// A router shaped like a real service: about forty routes, literals and parameters mixed.
const Router& service_router() {
  static const Router* router = [] {
    auto* r = new Router();
    r->get("/healthz", handler).get("/readyz", handler).get("/metrics", handler);
    const char* resources[] = {"communities", "members", "installs", "tickets", "webhooks", "messages", "groups"};
    for (const char* resource : resources) {
      const std::string base = std::string("/api/") + resource;
      r->get(base, handler).post(base, handler);
      r->get(base + "/{id}", handler).put(base + "/{id}", handler).del(base + "/{id}", handler);
      r->get(base + "/{id}/events/{event}", handler);
    }
    r->post("/webhooks/{app}", handler).get("/install/{community}/callback", handler);
    return r;
  }();
  return *router;
}

void BM_ParseTarget(benchmark::State& state) {
  for (auto _ : state) {
    auto target = wik::http::parse_target("/api/tickets/12345/events/678?include=body&limit=10");
    benchmark::DoNotOptimize(target);
  }
}
BENCHMARK(BM_ParseTarget);

void BM_MatchLiteral(benchmark::State& state) {
  const std::vector<std::string> segments = {"healthz"};
  for (auto _ : state) benchmark::DoNotOptimize(service_router().match(verb::get, segments));
}
BENCHMARK(BM_MatchLiteral);

void BM_MatchParameters(benchmark::State& state) {
  const std::vector<std::string> segments = {"api", "groups", "12345", "events", "678"};
  for (auto _ : state) benchmark::DoNotOptimize(service_router().match(verb::get, segments));
}
BENCHMARK(BM_MatchParameters);

void BM_MatchNotFound(benchmark::State& state) {
  const std::vector<std::string> segments = {"api", "nothing", "here"};
  for (auto _ : state) benchmark::DoNotOptimize(service_router().match(verb::get, segments));
}
BENCHMARK(BM_MatchNotFound);

void BM_ParseAndMatch(benchmark::State& state) {
  for (auto _ : state) {
    auto target = wik::http::parse_target("/api/tickets/12345?limit=10");
    benchmark::DoNotOptimize(service_router().match(verb::get, target->segments));
  }
}
BENCHMARK(BM_ParseAndMatch);

}  // namespace
