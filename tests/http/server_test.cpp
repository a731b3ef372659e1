// End-to-end tests of wik::http::Server over real loopback sockets (port 0). Every wait is bounded;
// the few deliberate delays are the configured timeouts themselves, kept short.
#include "http/server/server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <future>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include "http/raw_connection.h"
#include "http/server/shutdown.h"
#include "support/result_matchers.h"

namespace wik::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::get_request;
using testing::RawConnection;
using testing::RawResponse;

// State shared between a test and its handlers (handlers borrow it; the fixture owns it).
struct Probe {
  std::atomic<int> slow_started{0};
  std::atomic<int> slow_finished{0};
};

asio::awaitable<Response> hello(Request&) { co_return Response::text("hello"); }

asio::awaitable<Response> hang_up(Request&) { co_return Response::no_answer(); }

asio::awaitable<Response> get_item(Request& request) {
  boost::json::object body;
  body["id"] = request.param("id");
  if (auto q = request.query("q")) body["q"] = *q;
  co_return Response::json(body);
}

asio::awaitable<Result<Response>> create_item(Request& request) {
  auto json = request.json();
  if (!json.ok()) co_return json.error();
  boost::json::object body;
  body["received"] = std::move(json).value();
  co_return Response::json(body, boost::beast::http::status::created);
}

asio::awaitable<Result<Response>> post_form(Request& request) {
  auto form = request.form();
  if (!form.ok()) co_return form.error();
  boost::json::object body;
  for (const auto& [name, value] : *form) body[name] = value;
  co_return Response::json(body);
}

asio::awaitable<Result<Response>> fail(Request&) {
  co_return Error(ErrorCode::kNotFound, "no such item", "secret-detail-xyz");
}

asio::awaitable<Response> throw_up(Request&) {
  throw std::runtime_error("secret-detail-xyz");
  co_return Response::text("unreachable");
}

asio::awaitable<Response> echo(Request& request) { co_return Response::text(request.body()); }
asio::awaitable<Response> peer(Request& request) { co_return Response::text(request.peer_address()); }

asio::awaitable<Result<Response>> slow(Probe& probe, Request& request) {
  ++probe.slow_started;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(std::chrono::milliseconds(std::stoi(std::string(request.param("ms")))));
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  ++probe.slow_finished;
  if (ec) co_return Error(ErrorCode::kUnavailable, "cancelled");
  co_return Response::text("slept");
}

// Polls `condition` every few milliseconds until it holds or `timeout` passes.
template <class F>
::testing::AssertionResult eventually(F condition, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(5ms);
  }
  return ::testing::AssertionFailure() << "condition not met within " << timeout.count() << " ms";
}

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { spdlog::set_level(spdlog::level::warn); }

  static ServerOptions test_options() {
    ServerOptions options;
    options.port = 0;
    options.io_threads = 2;
    options.request_timeout = 2s;
    options.idle_timeout = 5s;
    options.shutdown_grace = 2s;
    return options;
  }

  void start(ServerOptions options = test_options()) {
    server_ = std::make_unique<Server>(std::move(options));
    Router& router = server_->router();
    router.get("/hello", hello)
        .get("/api/items/{id}", get_item)
        .post("/api/items", create_item)
        .post("/form", post_form)
        .get("/fail", fail)
        .get("/throw", throw_up)
        .get("/hang-up", hang_up)
        .post("/echo", echo)
        .get("/peer", peer)
        .post("/small", echo, {.max_body_bytes = 16})
        .get("/slow/{ms}", Handler([this](Request& request) { return slow(probe_, request); }));
    ASSERT_THAT(server_->start(), wik::testing::IsOk());
    ASSERT_NE(server_->port(), 0);
  }

  RawConnection connect() {
    RawConnection connection;
    EXPECT_TRUE(connection.connect(server_->port()));
    return connection;
  }

  // Sends `request` on a fresh connection and returns the response.
  std::optional<RawResponse> fetch(std::string_view request) { return connect().round_trip(request); }

  // Returns true if a fresh client is served /hello right now.
  bool serves_others() {
    auto response = fetch(get_request("/hello"));
    return response && response->status == 200 && response->body == "hello";
  }

  std::string metrics_text() {
    auto response = fetch(get_request("/metrics"));
    return response ? response->body : std::string();
  }

  static std::string error_code_of(const RawResponse& response) {
    return std::string(boost::json::parse(response.body).at("error").at("code").as_string());
  }

  Probe probe_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, ServesARouteAndAssignsARequestId) {
  start();
  auto response = fetch(get_request("/hello"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello");
  EXPECT_EQ(response->headers["Content-Type"], "text/plain; charset=utf-8");
  EXPECT_FALSE(std::string(response->headers["X-Request-Id"]).empty());
}

TEST_F(ServerTest, EchoesASaneRequestIdAndReplacesAnInsaneOne) {
  start();
  auto kept = fetch(get_request("/hello", "X-Request-Id: abc-123.x\r\n"));
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->headers["X-Request-Id"], "abc-123.x");
  auto replaced = fetch(get_request("/hello", "X-Request-Id: a b\x01<script>\r\n"));
  ASSERT_TRUE(replaced);
  EXPECT_NE(replaced->headers["X-Request-Id"], "a b\x01<script>");
  EXPECT_FALSE(std::string(replaced->headers["X-Request-Id"]).empty());
}

TEST_F(ServerTest, BindsPathParametersAndQuery) {
  start();
  auto response = fetch(get_request("/api/items/a%20b?q=x+y%21"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  const auto body = boost::json::parse(response->body);
  EXPECT_EQ(body.at("id").as_string(), "a b");
  EXPECT_EQ(body.at("q").as_string(), "x y!");
}

TEST_F(ServerTest, HandlersSeeThePeerAddressOfTheSocketNeverXForwardedFor) {
  start();
  auto response = fetch(get_request("/peer", "X-Forwarded-For: 203.0.113.7\r\n"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "127.0.0.1");
}

TEST_F(ServerTest, UnknownPathIs404WithJsonError) {
  start();
  auto response = fetch(get_request("/nope"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->headers["Content-Type"], "application/json");
  EXPECT_EQ(error_code_of(*response), "not_found");
}

TEST_F(ServerTest, NoAnswerClosesTheConnectionWithoutWritingAnything) {
  start();
  RawConnection connection = connect();
  ASSERT_TRUE(connection.send(get_request("/hang-up")));
  EXPECT_FALSE(connection.read_response(2s));
  EXPECT_TRUE(connection.wait_closed(2s));
  EXPECT_TRUE(serves_others());
}

TEST_F(ServerTest, WrongMethodIs405WithAllow) {
  start();
  auto response = fetch("DELETE /api/items HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 405);
  EXPECT_EQ(response->headers["Allow"], "POST");
  EXPECT_EQ(error_code_of(*response), "unsupported");
}

TEST_F(ServerTest, HeadIsServedByGetWithoutBody) {
  start();
  auto response = fetch("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->headers["Content-Length"], "5");
  EXPECT_EQ(response->body, "");
}

TEST_F(ServerTest, DecodesJsonBodies) {
  start();
  auto response = fetch(
      "POST /api/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
      "{\"a\":[1,2]}");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(boost::json::parse(response->body).at("received").at("a").as_array().size(), 2u);
}

TEST_F(ServerTest, InvalidJsonIs400AndTheConnectionStaysUsable) {
  start();
  auto connection = connect();
  auto response = connection.round_trip(
      "POST /api/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1,");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(error_code_of(*response), "malformed");
  auto next = connection.round_trip(get_request("/hello"));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
}

TEST_F(ServerTest, JsonRouteRejectsOtherMediaTypesWith415) {
  start();
  auto response =
      fetch("POST /api/items HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 415);
}

TEST_F(ServerTest, DecodesFormBodies) {
  start();
  const std::string body = "name=Jane+Doe&note=100%25";
  auto response = fetch("POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                        "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  const auto json = boost::json::parse(response->body);
  EXPECT_EQ(json.at("name").as_string(), "Jane Doe");
  EXPECT_EQ(json.at("note").as_string(), "100%");
}

TEST_F(ServerTest, InvalidPercentEncodingIs400) {
  start();
  for (const char* target : {"/api/items/%zz", "/api/items/1?q=%4", "/hello%"}) {
    auto response = fetch(get_request(target));
    ASSERT_TRUE(response) << target;
    EXPECT_EQ(response->status, 400) << target;
    EXPECT_EQ(error_code_of(*response), "malformed") << target;
  }
  const std::string body = "a=%G0";
  auto form = fetch("POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                    "Content-Length: 5\r\n\r\n" + body);
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 400);
  EXPECT_TRUE(serves_others());
}

TEST_F(ServerTest, HandlerErrorsGoThroughTheTableWithoutDetail) {
  start();
  auto response = fetch(get_request("/fail"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->body, R"({"error":{"code":"not_found","message":"no such item"}})");
  auto thrown = fetch(get_request("/throw"));
  ASSERT_TRUE(thrown);
  EXPECT_EQ(thrown->status, 500);
  EXPECT_EQ(thrown->body, R"({"error":{"code":"internal","message":"internal error"}})");
  EXPECT_THAT(thrown->body, Not(HasSubstr("secret")));
}

TEST_F(ServerTest, MalformedRequestLinesAndHeadersAre400AndClose) {
  start();
  const char* requests[] = {
      "GARBAGE\r\n\r\n",
      "GET /hello HTTP/9.9\r\nHost: x\r\n\r\n",
      "GET /hello\r\n\r\n",
      "GET /hello HTTP/1.1\r\nBad Header Line\r\n\r\n",
      "GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
      "G\x01T /hello HTTP/1.1\r\n\r\n",
      "GET /hel lo HTTP/1.1\r\n\r\n",
  };
  for (const char* request : requests) {
    auto connection = connect();
    auto response = connection.round_trip(request);
    ASSERT_TRUE(response) << request;
    EXPECT_EQ(response->status, 400) << request;
    EXPECT_FALSE(response->keep_alive) << request;
    EXPECT_TRUE(connection.wait_closed(2s)) << request;
  }
  EXPECT_TRUE(serves_others());
}

TEST_F(ServerTest, AbsoluteFormTargetIs400) {
  start();
  auto response = fetch("GET http://example.com/hello HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
}

TEST_F(ServerTest, OversizedHeadersAre431) {
  start();
  auto connection = connect();
  auto response = connection.round_trip(get_request("/hello", "X-Big: " + std::string(9000, 'a') + "\r\n"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_TRUE(connection.wait_closed(2s));
  EXPECT_TRUE(serves_others());
}

TEST_F(ServerTest, OversizedBodyIs413BeforeItIsSent) {
  start();
  auto connection = connect();
  auto response = connection.round_trip("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(error_code_of(*response), "too_large");
  EXPECT_TRUE(serves_others());
}

TEST_F(ServerTest, RouteBodyLimitOverridesTheDefault) {
  start();
  const std::string body(17, 'x');
  const std::string headers = "HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n";
  auto small = fetch("POST /small " + headers + body);
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 413);
  auto large = fetch("POST /echo " + headers + body);
  ASSERT_TRUE(large);
  EXPECT_EQ(large->status, 200);
  EXPECT_EQ(large->body, body);
}

TEST_F(ServerTest, ChunkedBodyOverTheLimitIs413) {
  start();
  auto response = fetch(
      "POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
}

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  start();
  auto connection = connect();
  for (int i = 0; i < 5; ++i) {
    auto response = connection.round_trip(get_request("/api/items/" + std::to_string(i)));
    ASSERT_TRUE(response);
    EXPECT_TRUE(response->keep_alive);
    EXPECT_EQ(boost::json::parse(response->body).at("id").as_string(), std::to_string(i));
  }
}

TEST_F(ServerTest, Http10WithoutKeepAliveCloses) {
  start();
  auto connection = connect();
  auto response = connection.round_trip("GET /hello HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(connection.wait_closed(2s));
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  auto connection = connect();
  ASSERT_TRUE(connection.send(get_request("/api/items/1") + get_request("/slow/50") + get_request("/api/items/3") +
                              "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nfour"));
  auto first = connection.read_response();
  auto second = connection.read_response();
  auto third = connection.read_response();
  auto fourth = connection.read_response();
  ASSERT_TRUE(first && second && third && fourth);
  EXPECT_EQ(boost::json::parse(first->body).at("id").as_string(), "1");
  EXPECT_EQ(second->body, "slept");
  EXPECT_EQ(boost::json::parse(third->body).at("id").as_string(), "3");
  EXPECT_EQ(fourth->body, "four");
}

TEST_F(ServerTest, ExpectContinueGetsAnInterimResponse) {
  start();
  auto connection = connect();
  ASSERT_TRUE(connection.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = connection.read_response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(connection.send("abc"));
  auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "abc");
}

TEST_F(ServerTest, SlowLorisIsCutOffWith408WhileOthersAreServed) {
  auto options = test_options();
  options.request_timeout = 300ms;
  start(options);
  auto loris = connect();
  const auto began = std::chrono::steady_clock::now();
  ASSERT_TRUE(loris.send("GET /hello HTTP/1.1\r\n"));
  // Drip a header byte every 40 ms: each read succeeds, but the request as a whole is too slow.
  std::optional<RawResponse> answer;
  for (int i = 0; i < 50 && !answer; ++i) {
    loris.send("X");
    EXPECT_TRUE(serves_others());
    answer = loris.read_response(40ms);
  }
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 408);
  EXPECT_EQ(error_code_of(*answer), "timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - began, 1500ms);
  EXPECT_TRUE(loris.wait_closed(2s));
}

TEST_F(ServerTest, StalledBodyIs408) {
  auto options = test_options();
  options.request_timeout = 200ms;
  start(options);
  auto connection = connect();
  auto response = connection.round_trip("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 408);
}

TEST_F(ServerTest, IdleConnectionIsClosedSilently) {
  auto options = test_options();
  options.idle_timeout = 150ms;
  start(options);
  auto connection = connect();
  ASSERT_TRUE(connection.round_trip(get_request("/hello")));
  EXPECT_TRUE(connection.wait_closed(2s));
  auto fresh = connect();
  EXPECT_TRUE(fresh.wait_closed(2s));
}

TEST_F(ServerTest, ConnectionsBeyondTheLimitGet503AndOthersAreServed) {
  auto options = test_options();
  options.max_connections = 3;
  start(options);
  std::vector<RawConnection> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(connect());
    ASSERT_TRUE(held.back().round_trip(get_request("/hello")));
  }
  auto refused = connect();
  auto response = refused.round_trip(get_request("/hello"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(error_code_of(*response), "unavailable");
  EXPECT_TRUE(refused.wait_closed(2s));
  for (auto& connection : held) {
    auto again = connection.round_trip(get_request("/hello"));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 200);
  }
  held.pop_back();
  EXPECT_TRUE(eventually([&] { return serves_others(); }));
}

TEST_F(ServerTest, ClientDisconnectingMidRequestDoesNotDisturbOthers) {
  start();
  for (int i = 0; i < 20; ++i) {
    auto quitter = connect();
    ASSERT_TRUE(quitter.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf"));
    quitter.close();
    auto header_quitter = connect();
    ASSERT_TRUE(header_quitter.send("GET /hello HTTP/1.1\r\nHo"));
    header_quitter.close();
  }
  // And one that leaves while its handler runs.
  auto impatient = connect();
  ASSERT_TRUE(impatient.send(get_request("/slow/100")));
  ASSERT_TRUE(eventually([&] { return probe_.slow_started.load() == 1; }));
  impatient.close();
  EXPECT_TRUE(serves_others());
  EXPECT_TRUE(eventually([&] { return probe_.slow_finished.load() == 1; }));
  EXPECT_TRUE(eventually([&] { return metrics_text().find("http_open_connections 1\n") != std::string::npos; }));
}

// The clients are held by a child process (IdleConnections), so the server's ends alone count
// against this process's limit on open files. WIK_HTTP_TEST_IDLE_CONNECTIONS sets how many.
TEST_F(ServerTest, ManyIdleConnectionsOpenedAndDroppedWhileOthersAreServed) {
  const char* configured = std::getenv("WIK_HTTP_TEST_IDLE_CONNECTIONS");
  const std::size_t count = configured != nullptr ? std::stoul(configured) : 10'000;
  const auto limit = testing::raise_open_file_limit(count + 256);
  ASSERT_GE(limit, count + 64) << "cannot open enough files; raise the hard limit (ulimit -Hn)";
  ServerOptions options = test_options();
  options.max_connections = count + 64;
  options.request_timeout = options.idle_timeout = 120s;  // idle, not cut off, until they are dropped
  start(std::move(options));

  testing::IdleConnections idle(server_->port(), count);
  std::optional<std::size_t> connected;
  int served_meanwhile = 0;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!(connected = idle.wait_connected(100ms)) && std::chrono::steady_clock::now() < deadline) {
    EXPECT_TRUE(serves_others());
    ++served_meanwhile;
  }
  ASSERT_EQ(connected, count);
  std::cout << count << " idle connections opened; " << served_meanwhile << " other clients served meanwhile\n";
  EXPECT_TRUE(eventually(
      [&] {
        return metrics_text().find("http_open_connections " + std::to_string(count + 1) + "\n") != std::string::npos;
      },
      10s));
  EXPECT_TRUE(serves_others());
  idle.drop();
  EXPECT_TRUE(serves_others());
  EXPECT_TRUE(eventually([&] { return metrics_text().find("http_open_connections 1\n") != std::string::npos; }, 10s));
}

TEST_F(ServerTest, GracefulStopFinishesInFlightRequestsAndClosesIdleOnes) {
  start();
  auto idle = connect();
  ASSERT_TRUE(idle.round_trip(get_request("/hello")));
  auto busy = connect();
  ASSERT_TRUE(busy.send(get_request("/slow/300")));
  ASSERT_TRUE(eventually([&] { return probe_.slow_started.load() == 1; }));

  const auto began = std::chrono::steady_clock::now();
  auto stopped = std::async(std::launch::async, [&] { server_->stop(5s); });
  EXPECT_TRUE(idle.wait_closed(2s));
  auto response = busy.read_response(3s);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "slept");
  EXPECT_FALSE(response->keep_alive);
  ASSERT_EQ(stopped.wait_for(3s), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - began, 3s);
  RawConnection late;
  EXPECT_FALSE(late.connect(server_->port()));
}

TEST_F(ServerTest, StopCancelsHandlersStillRunningAtTheDeadline) {
  start();
  auto busy = connect();
  ASSERT_TRUE(busy.send(get_request("/slow/60000")));
  ASSERT_TRUE(eventually([&] { return probe_.slow_started.load() == 1; }));
  const auto began = std::chrono::steady_clock::now();
  server_->stop(100ms);
  EXPECT_LT(std::chrono::steady_clock::now() - began, 2s);
  EXPECT_EQ(probe_.slow_finished.load(), 1);
  auto response = busy.read_response(1s);
  if (response) {
    EXPECT_EQ(response->status, 503);
  }
  EXPECT_TRUE(busy.wait_closed(1s));
}

TEST_F(ServerTest, ShutdownOnSignalStopsTheServer) {
  start();
  ShutdownOnSignal shutdown(*server_, 1s);
  std::raise(SIGTERM);
  EXPECT_EQ(shutdown.wait(), SIGTERM);
  EXPECT_FALSE(server_->running());
}

TEST_F(ServerTest, HealthAndReadiness) {
  start();
  auto health = fetch(get_request("/healthz"));
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto ready = fetch(get_request("/readyz"));
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);

  std::atomic<bool> database_up{false};
  server_->readiness().add("database", [&]() -> Result<void> {
    if (database_up) return ok_result();
    return Error(ErrorCode::kUnavailable, "database down", "host=10.1.2.3 password=hunter2");
  });
  auto not_ready = fetch(get_request("/readyz"));
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_THAT(not_ready->body, HasSubstr("database"));
  EXPECT_THAT(not_ready->body, Not(HasSubstr("hunter2")));
  database_up = true;
  auto ready_again = fetch(get_request("/readyz"));
  ASSERT_TRUE(ready_again);
  EXPECT_EQ(ready_again->status, 200);
  EXPECT_EQ(boost::json::parse(ready_again->body).at("checks").at("database").as_string(), "ok");
}

TEST_F(ServerTest, MetricsCountRequestsByRoutePatternAndStatus) {
  start();
  server_->metrics().counter("wik_widgets_total", "Widgets made by another part.", {{"color", "blue"}}).inc(4);
  ASSERT_TRUE(fetch(get_request("/api/items/1")));
  ASSERT_TRUE(fetch(get_request("/api/items/2")));
  ASSERT_TRUE(fetch(get_request("/nope")));
  auto response = fetch(get_request("/metrics"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = response->body;
  EXPECT_THAT(text, HasSubstr("http_requests_total{method=\"GET\",route=\"/api/items/{id}\",status=\"200\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("http_request_duration_seconds_count{route=\"/api/items/{id}\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("http_request_duration_seconds_bucket{route=\"/api/items/{id}\",le=\"+Inf\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE http_open_connections gauge\nhttp_open_connections "));
  EXPECT_TRUE(eventually([&] { return metrics_text().find("http_open_connections 1\n") != std::string::npos; }));
  EXPECT_THAT(text, HasSubstr("wik_widgets_total{color=\"blue\"} 4\n"));
  EXPECT_THAT(text, Not(HasSubstr("/api/items/1")));
}

TEST_F(ServerTest, AccessLogNamesTheRoutePatternNotThePath) {
  std::ostringstream lines;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>("wik", std::make_shared<spdlog::sinks::ostream_sink_mt>(lines));
  logger->set_level(spdlog::level::info);
  spdlog::set_default_logger(logger);
  start();
  ASSERT_TRUE(fetch(get_request("/api/items/secret-id-42", "X-Request-Id: trace-1\r\n")));
  server_->stop();
  spdlog::set_default_logger(previous);
  const std::string log = lines.str();
  EXPECT_THAT(log, HasSubstr("http GET /api/items/{id} 200 "));
  EXPECT_THAT(log, HasSubstr("request_id=trace-1"));
  EXPECT_THAT(log, Not(HasSubstr("secret-id-42")));
}

TEST_F(ServerTest, StartFailsCleanlyOnBadOptions) {
  ServerOptions options = test_options();
  options.address = "not-an-address";
  Server bad_address(options);
  EXPECT_THAT(bad_address.start(), wik::testing::HasError(ErrorCode::kConfig));
  start();
  ServerOptions taken = test_options();
  taken.port = server_->port();
  Server clash(taken);
  EXPECT_THAT(clash.start(), wik::testing::HasError(ErrorCode::kUnavailable));
  ServerOptions missing_tls = test_options();
  missing_tls.tls = TlsFiles{"/nonexistent/cert.pem", "/nonexistent/key.pem"};
  Server no_tls(missing_tls);
  EXPECT_THAT(no_tls.start(), wik::testing::HasError(ErrorCode::kConfig));
}

}  // namespace
}  // namespace wik::http
