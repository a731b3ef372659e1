// Tests of wik::http::Client against wik::http::Server on loopback (port 0), including a TLS
// server whose certificate is generated at test time with the openssl command.
#include "http/client/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <spdlog/spdlog.h>

#include <future>
#include <thread>

#include "http/server/server.h"
#include "support/command.h"
#include "support/result_matchers.h"
#include "support/temp_dir.h"

namespace wik::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using boost::beast::http::verb;
using ::testing::HasSubstr;
using wik::testing::HasError;
using wik::testing::IsOk;

asio::awaitable<Response> hello(Request&) { co_return Response::text("hello"); }

asio::awaitable<Response> echo(Request& request) {
  Response response = Response::text(std::string(request.method_name()) + " " + request.body());
  if (auto token = request.header("Authorization")) response.set_header("X-Saw-Authorization", *token);
  co_return response;
}

asio::awaitable<Response> big(Request& request) {
  co_return Response::text(std::string(std::stoul(std::string(request.query("n").value_or("0"))), 'b'));
}

asio::awaitable<Response> slow(Request& request) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(std::chrono::milliseconds(std::stoi(std::string(request.param("ms")))));
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return Response::text("slept");
}

asio::awaitable<Response> redirect(Request& request) {
  Response response(boost::beast::http::status::found);
  response.set_header("Location", std::string(request.query("to").value_or("/hello")));
  co_return response;
}

asio::awaitable<Response> see_other(Request&) {
  Response response(boost::beast::http::status::see_other);
  response.set_header("Location", "/echo-get");
  co_return response;
}

// co_spawn needs a default-constructible result; Result<T> deliberately is not.
asio::awaitable<std::optional<Result<ClientResponse>>> spawnable(Client* client, ClientRequest request) {
  co_return co_await client->request(std::move(request));
}

// Returns the outcome of a spawned request, or a kInternal error if it never finished.
Result<ClientResponse> outcome(std::future<std::optional<Result<ClientResponse>>>& future) {
  if (future.wait_for(0s) != std::future_status::ready) return Error(ErrorCode::kInternal, "test: request hung");
  auto result = future.get();
  if (!result) return Error(ErrorCode::kInternal, "test: no result");
  return std::move(*result);
}

ServerOptions server_options() {
  ServerOptions options;
  options.port = 0;
  options.io_threads = 1;
  options.access_log = false;
  return options;
}

void add_routes(Server& server) {
  server.router()
      .get("/hello", hello)
      .post("/echo", echo)
      .get("/echo-get", echo)
      .get("/big", big)
      .get("/slow/{ms}", slow)
      .get("/redirect", redirect)
      .post("/see-other", see_other);
}

ClientOptions plain_options() {
  ClientOptions options;
  options.allow_plain_http = true;
  options.total_timeout = 5s;
  return options;
}

class ClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { spdlog::set_level(spdlog::level::warn); }

  void SetUp() override {
    server_ = std::make_unique<Server>(server_options());
    add_routes(*server_);
    ASSERT_THAT(server_->start(), IsOk());
  }

  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
  }

  // Runs `request` on `client` in the test's io_context and returns its result.
  Result<ClientResponse> run(Client& client, ClientRequest request) {
    auto future = asio::co_spawn(io_context_, spawnable(&client, std::move(request)), asio::use_future);
    io_context_.restart();
    io_context_.run_for(10s);
    return outcome(future);
  }

  Result<ClientResponse> get(Client& client, std::string_view path) {
    return run(client, {.method = verb::get, .url = url(path)});
  }

  std::unique_ptr<Client> make_client(ClientOptions options = plain_options()) {
    auto client = Client::create(std::move(options));
    EXPECT_THAT(client, IsOk());
    return client.ok() ? std::move(client).value() : nullptr;
  }

  std::uint64_t accepted_connections() {
    return server_->metrics().counter("http_connections_total", "Connections accepted.").value();
  }

  asio::io_context io_context_;
  std::unique_ptr<Server> server_;
};

TEST_F(ClientTest, APooledConnectionIsReusedOnlyOnTheContextThatMadeIt) {
  auto client = make_client();
  ASSERT_THAT(get(*client, "/hello"), IsOk());
  EXPECT_EQ(client->idle_connections(), 1u);
  const auto accepted = accepted_connections();

  asio::io_context other;
  auto future = asio::co_spawn(other, spawnable(client.get(), {.method = verb::get, .url = url("/hello")}),
                               asio::use_future);
  other.run_for(10s);
  ASSERT_THAT(outcome(future), IsOk());
  EXPECT_EQ(accepted_connections(), accepted + 1);  // a connection of its own
  EXPECT_EQ(client->idle_connections(), 2u);

  ASSERT_THAT(get(*client, "/hello"), IsOk());
  EXPECT_EQ(accepted_connections(), accepted + 1);  // the first context reused its own
}

TEST_F(ClientTest, AClientMayOutliveTheIoContextsItsConnectionsBelongTo) {
  auto client = make_client();
  {
    asio::io_context short_lived;
    auto future = asio::co_spawn(short_lived, spawnable(client.get(), {.method = verb::get, .url = url("/hello")}),
                                 asio::use_future);
    short_lived.run_for(10s);
    ASSERT_THAT(outcome(future), IsOk());
    EXPECT_EQ(client->idle_connections(), 1u);
  }  // the io_context shuts down: its idle connection is closed with it
  EXPECT_EQ(client->idle_connections(), 0u);
  ASSERT_THAT(get(*client, "/hello"), IsOk());  // the client goes on working on other contexts
  client.reset();
}

TEST_F(ClientTest, GetsOverPlainHttpWhenAllowed) {
  auto client = make_client();
  auto response = get(*client, "/hello");
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->status, 200u);
  EXPECT_EQ(response->body, "hello");
  EXPECT_EQ(response->header("content-type"), "text/plain; charset=utf-8");
}

TEST_F(ClientTest, RefusesPlainHttpByDefault) {
  ClientOptions options;
  auto client = make_client(options);
  EXPECT_THAT(get(*client, "/hello"), HasError(ErrorCode::kConfig, HasSubstr("plain http")));
}

TEST_F(ClientTest, RejectsBadUrls) {
  auto client = make_client();
  EXPECT_THAT(run(*client, {.url = "not a url"}), HasError(ErrorCode::kInvalidArgument));
  EXPECT_THAT(run(*client, {.url = "ftp://127.0.0.1/x"}), HasError(ErrorCode::kInvalidArgument));
  EXPECT_THAT(run(*client, {.url = "http://user:pw@127.0.0.1/x"}), HasError(ErrorCode::kInvalidArgument));
}

TEST_F(ClientTest, PostsBodyAndHeaders) {
  auto client = make_client();
  ClientRequest request{.method = verb::post, .url = url("/echo"), .body = "payload"};
  request.headers.set("Authorization", "Bearer t");
  auto response = run(*client, std::move(request));
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->body, "POST payload");
  EXPECT_EQ(response->header("X-Saw-Authorization"), "Bearer t");
}

TEST_F(ClientTest, ReusesKeptAliveConnections) {
  auto client = make_client();
  for (int i = 0; i < 5; ++i) ASSERT_THAT(get(*client, "/hello"), IsOk());
  EXPECT_EQ(accepted_connections(), 1u);
  EXPECT_EQ(client->idle_connections(), 1u);
  client->close_idle();
  EXPECT_EQ(client->idle_connections(), 0u);
}

TEST_F(ClientTest, PoolSizeZeroMeansNoReuse) {
  ClientOptions options = plain_options();
  options.max_idle_connections_per_host = 0;
  auto client = make_client(options);
  for (int i = 0; i < 3; ++i) ASSERT_THAT(get(*client, "/hello"), IsOk());
  EXPECT_EQ(accepted_connections(), 3u);
  EXPECT_EQ(client->idle_connections(), 0u);
}

TEST_F(ClientTest, PoolKeepsAtMostItsLimitPerHost) {
  ClientOptions options = plain_options();
  options.max_idle_connections_per_host = 2;
  auto client = make_client(options);
  std::vector<std::future<std::optional<Result<ClientResponse>>>> futures;
  for (int i = 0; i < 4; ++i) {
    futures.push_back(asio::co_spawn(io_context_, spawnable(client.get(), {.url = url("/slow/50")}), asio::use_future));
  }
  io_context_.run_for(10s);
  for (auto& future : futures) EXPECT_THAT(outcome(future), IsOk());
  EXPECT_EQ(accepted_connections(), 4u);
  EXPECT_EQ(client->idle_connections(), 2u);
}

TEST_F(ClientTest, RetriesWhenThePooledConnectionWasClosedByTheServer) {
  server_->stop();
  ServerOptions options = server_options();
  options.idle_timeout = 50ms;
  server_ = std::make_unique<Server>(options);
  add_routes(*server_);
  ASSERT_THAT(server_->start(), IsOk());
  auto client = make_client();
  ASSERT_THAT(get(*client, "/hello"), IsOk());
  ASSERT_EQ(client->idle_connections(), 1u);
  // Wait until the server has closed the idle connection.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server_->metrics().gauge("http_open_connections", "Connections being served.").value() > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  auto response = get(*client, "/hello");
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->body, "hello");
  EXPECT_EQ(accepted_connections(), 2u);
}

TEST_F(ClientTest, APostIsNeverWrittenToAPooledConnectionTheServerHasClosed) {
  server_->stop();
  ServerOptions options = server_options();
  options.idle_timeout = 50ms;
  server_ = std::make_unique<Server>(options);
  add_routes(*server_);
  ASSERT_THAT(server_->start(), IsOk());
  auto client = make_client();
  const ClientRequest post{.method = verb::post, .url = url("/echo"), .body = "first"};
  ASSERT_THAT(run(*client, post), IsOk());
  ASSERT_EQ(client->idle_connections(), 1u);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server_->metrics().gauge("http_open_connections", "Connections being served.").value() > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  // A POST is not retried after it may have reached the server, so it must not go out on the
  // connection the server closed: the pool notices and opens a fresh one.
  ClientRequest again = post;
  again.body = "second";
  auto response = run(*client, again);
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(accepted_connections(), 2u);
}

TEST_F(ClientTest, ReadTimeout) {
  ClientOptions options = plain_options();
  options.read_timeout = 100ms;
  auto client = make_client(options);
  const auto began = std::chrono::steady_clock::now();
  EXPECT_THAT(get(*client, "/slow/3000"), HasError(ErrorCode::kTimeout));
  EXPECT_LT(std::chrono::steady_clock::now() - began, 2s);
}

TEST_F(ClientTest, TotalTimeout) {
  ClientOptions options = plain_options();
  options.total_timeout = 150ms;
  auto client = make_client(options);
  const auto began = std::chrono::steady_clock::now();
  EXPECT_THAT(get(*client, "/slow/3000"), HasError(ErrorCode::kTimeout));
  EXPECT_LT(std::chrono::steady_clock::now() - began, 2s);
}

TEST_F(ClientTest, ConnectionRefusedIsUnavailable) {
  auto client = make_client();
  const std::string target = url("/hello");
  server_->stop();
  EXPECT_THAT(run(*client, {.url = target}), HasError(ErrorCode::kUnavailable));
}

TEST_F(ClientTest, ConnectTimeoutWhenTheListenQueueIsFull) {
  // A listener that never accepts, with its queue filled: further SYNs go unanswered.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  socklen_t length = sizeof address;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    const int filler = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ::connect(filler, reinterpret_cast<sockaddr*>(&address), sizeof address);
    fillers.push_back(filler);
  }
  ClientOptions options = plain_options();
  options.connect_timeout = 200ms;
  auto client = make_client(options);
  const auto began = std::chrono::steady_clock::now();
  auto response = run(*client, {.url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/"});
  EXPECT_THAT(response, HasError(ErrorCode::kTimeout));
  EXPECT_LT(std::chrono::steady_clock::now() - began, 2s);
  for (const int filler : fillers) ::close(filler);
  ::close(listener);
}

TEST_F(ClientTest, ResponseBodyLimit) {
  ClientOptions options = plain_options();
  options.max_response_body_bytes = 1000;
  auto client = make_client(options);
  EXPECT_THAT(get(*client, "/big?n=1000"), IsOk());
  EXPECT_THAT(get(*client, "/big?n=1001"), HasError(ErrorCode::kTooLarge));
}

TEST_F(ClientTest, CancellationEndsTheRequestPromptly) {
  auto client = make_client();
  asio::cancellation_signal cancel;
  std::optional<Result<ClientResponse>> result;
  asio::co_spawn(io_context_, spawnable(client.get(), {.url = url("/slow/5000")}),
                 asio::bind_cancellation_slot(cancel.slot(),
                                              [&](std::exception_ptr e, std::optional<Result<ClientResponse>> r) {
                                                if (!e && r) result.emplace(std::move(*r));
                                              }));
  asio::steady_timer timer(io_context_, 100ms);
  timer.async_wait([&](boost::system::error_code) { cancel.emit(asio::cancellation_type::terminal); });
  const auto began = std::chrono::steady_clock::now();
  io_context_.run_for(5s);
  ASSERT_TRUE(result.has_value());
  EXPECT_THAT(*result, HasError(ErrorCode::kUnavailable, HasSubstr("cancelled")));
  EXPECT_LT(std::chrono::steady_clock::now() - began, 2s);
  EXPECT_EQ(client->idle_connections(), 0u);
}

TEST_F(ClientTest, RedirectsAreReturnedUnlessFollowingIsAsked) {
  auto client = make_client();
  auto response = get(*client, "/redirect");
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->status, 302u);
  EXPECT_EQ(response->header("Location"), "/hello");

  ClientOptions options = plain_options();
  options.max_redirects = 2;
  auto following = make_client(options);
  auto followed = get(*following, "/redirect");
  ASSERT_THAT(followed, IsOk());
  EXPECT_EQ(followed->status, 200u);
  EXPECT_EQ(followed->body, "hello");
  EXPECT_EQ(followed->url, url("/hello"));
  EXPECT_THAT(get(*following, "/redirect?to=/redirect%3Fto%3D/redirect%253Fto%253D/hello"),
              HasError(ErrorCode::kUnavailable, HasSubstr("too many redirects")));
}

TEST_F(ClientTest, SeeOtherTurnsPostIntoGet) {
  ClientOptions options = plain_options();
  options.max_redirects = 1;
  auto client = make_client(options);
  auto response = run(*client, {.method = verb::post, .url = url("/see-other"), .body = "x"});
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->body, "GET ");
}

TEST_F(ClientTest, HeadRequestHasNoBody) {
  auto client = make_client();
  auto response = run(*client, {.method = verb::head, .url = url("/hello")});
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->status, 200u);
  EXPECT_EQ(response->body, "");
  EXPECT_THAT(get(*client, "/hello"), IsOk());  // the connection is still in step
  EXPECT_EQ(accepted_connections(), 1u);
}

// A TLS server with a self-signed certificate made for this test.
class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { spdlog::set_level(spdlog::level::warn); }

  // Writes a self-signed certificate for `subject_alt_names` and its key into the temp dir.
  void make_certificate(const std::string& subject_alt_names) {
    cert_ = (dir_.path() / "cert.pem").string();
    key_ = (dir_.path() / "key.pem").string();
    const auto result = wik::testing::run_command(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=wik-test"
        " -addext " + wik::testing::shell_quote("subjectAltName=" + subject_alt_names) +
        " -keyout " + wik::testing::shell_quote(key_) + " -out " + wik::testing::shell_quote(cert_));
    ASSERT_EQ(result.exit_status, 0) << result.err;
  }

  void start_server() {
    ServerOptions options = server_options();
    options.tls = TlsFiles{cert_, key_};
    server_ = std::make_unique<Server>(options);
    add_routes(*server_);
    ASSERT_THAT(server_->start(), IsOk());
  }

  Result<ClientResponse> fetch(ClientOptions options, std::string host = "127.0.0.1") {
    options.total_timeout = 5s;
    auto client = Client::create(std::move(options));
    if (!client.ok()) return client.error();
    auto future = asio::co_spawn(
        io_context_,
        spawnable(client->get(), {.url = "https://" + host + ":" + std::to_string(server_->port()) + "/hello"}),
        asio::use_future);
    io_context_.restart();
    io_context_.run_for(10s);
    return outcome(future);
  }

  wik::testing::TempDir dir_;
  std::string cert_;
  std::string key_;
  asio::io_context io_context_;
  std::unique_ptr<Server> server_;
};

TEST_F(TlsTest, ClientRejectsAnUnknownCertificateAndAcceptsItWithItsCa) {
  make_certificate("IP:127.0.0.1,DNS:localhost");
  start_server();
  EXPECT_THAT(fetch({}), HasError(ErrorCode::kUnavailable, HasSubstr("TLS handshake")));
  auto trusted = fetch({.ca_file = cert_});
  ASSERT_THAT(trusted, IsOk());
  EXPECT_EQ(trusted->status, 200u);
  EXPECT_EQ(trusted->body, "hello");
  EXPECT_THAT(fetch({.ca_file = cert_}, "localhost"), IsOk());
}

TEST_F(TlsTest, ClientChecksTheHostName) {
  make_certificate("DNS:other.example");
  start_server();
  EXPECT_THAT(fetch({.ca_file = cert_}), HasError(ErrorCode::kUnavailable, HasSubstr("TLS handshake")));
}

TEST_F(TlsTest, MissingCaFileIsAConfigError) {
  EXPECT_THAT(Client::create({.ca_file = "/nonexistent/ca.pem"}), HasError(ErrorCode::kConfig));
}

TEST_F(TlsTest, PlainHttpToTheTlsPortIsDroppedAndTheServerGoesOn) {
  make_certificate("IP:127.0.0.1");
  start_server();
  ClientOptions plain = plain_options();
  auto client = Client::create(plain);
  ASSERT_THAT(client, IsOk());
  auto future = asio::co_spawn(
      io_context_, spawnable(client->get(), {.url = "http://127.0.0.1:" + std::to_string(server_->port()) + "/hello"}),
      asio::use_future);
  io_context_.run_for(10s);
  EXPECT_THAT(outcome(future), HasError(ErrorCode::kUnavailable));
  EXPECT_THAT(fetch({.ca_file = cert_}), IsOk());
}

}  // namespace
}  // namespace wik::http
