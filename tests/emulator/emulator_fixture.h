// EmulatorFixture: a running Emulator on loopback (ports 0, control API on, state in memory unless a
// test says otherwise) and a plain HTTP client to talk to it as an independent program would.
// Helpers return the status and parsed JSON body; wait_for() polls a condition with a deadline.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <optional>
#include <thread>

#include "emulator/emulator.h"
#include "http/client/client.h"
#include "support/result_matchers.h"

namespace wik::emulator::testing {

// The seed's ids (docs/emulator.md lists them).
inline const Id kAcme = "100000000000001";
inline const Id kAda = "100000000000002";  // the system administrator
inline const Id kBruno = "100000000000003";
inline const Id kChloe = "100000000000004";
inline const Id kAllAcme = "100000000000007";
inline const Id kSupportTeam = "100000000000008";

inline const Id kAppId = "1111222233334444";
inline const std::string kAppSecret = "0123456789abcdef0123456789abcdef";
inline const std::string kRedirect = "https://vendor.example/workplace/install";

inline App helpdesk_app(std::string deauthorize_url = "http://127.0.0.1:9/deauthorize") {
  App app;
  app.id = kAppId;
  app.secret = kAppSecret;
  app.name = "Helpdesk";
  app.publisher = "Example Ltd";
  app.redirect_url = kRedirect;
  app.deauthorize_url = std::move(deauthorize_url);
  app.permissions = {"message", "bot_mention", "read_user_email", "read_group"};
  return app;
}

// Returns the string member `key` of a JSON object, or "" when there is none.
inline std::string text(const boost::json::value& value, std::string_view key) {
  const auto* object = value.if_object();
  const auto* member = object == nullptr ? nullptr : object->if_contains(key);
  return member != nullptr && member->is_string() ? std::string(member->get_string()) : std::string();
}

struct Reply {
  unsigned status = 0;
  boost::json::value body;
  http::ClientResponse raw;
};

class EmulatorFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { spdlog::set_level(spdlog::level::warn); }

  void SetUp() override { start({}); }

  // (Re)starts the emulator with `options`, forcing ports 0 and the control API on.
  void start(EmulatorOptions options) {
    emulator_.reset();
    options.graph_port = 0;
    options.web_port = 0;
    options.control_api = true;
    options.io_threads = 1;
    if (options.apps.empty()) options.apps.push_back(helpdesk_app());
    auto started = Emulator::start(std::move(options));
    ASSERT_THAT(started, wik::testing::IsOk());
    emulator_ = std::move(started).value();
  }

  // Sends a request and returns the client's result (kInternal when it did not finish in time).
  Result<http::ClientResponse> fetch(http::ClientRequest request) {
    auto future = boost::asio::co_spawn(io_, spawnable(client_.get(), std::move(request)), boost::asio::use_future);
    io_.restart();
    io_.run_for(std::chrono::seconds(20));
    if (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      return Error(ErrorCode::kInternal, "test: the request did not finish");
    }
    auto response = future.get();
    if (!response) return Error(ErrorCode::kInternal, "test: no result");
    return std::move(*response);
  }

  // Sends a request and returns the answer; a transport failure fails the test and returns status 0.
  Reply send(boost::beast::http::verb method, const std::string& url, std::string body = {},
             std::string content_type = "application/json") {
    http::ClientRequest request{.method = method, .url = url, .body = std::move(body)};
    if (!request.body.empty()) request.headers.set(boost::beast::http::field::content_type, content_type);
    auto response = fetch(std::move(request));
    Reply reply;
    if (!response) {
      ADD_FAILURE() << "request to " << url << " failed: " << response.error().reason();
      return reply;
    }
    reply.raw = std::move(response).value();
    reply.status = reply.raw.status;
    boost::system::error_code ec;
    reply.body = boost::json::parse(reply.raw.body, ec);
    return reply;
  }

  // Calls the control API: `path` is below /_emulator, `body` a JSON value (none when null).
  Reply control(boost::beast::http::verb method, const std::string& path, const boost::json::value& body = nullptr) {
    return send(method, emulator_->web_url() + "/_emulator" + path, body.is_null() ? "" : boost::json::serialize(body));
  }
  Reply control_get(const std::string& path) { return control(boost::beast::http::verb::get, path); }
  Reply control_post(const std::string& path, const boost::json::value& body) {
    return control(boost::beast::http::verb::post, path, body);
  }

  // Installs the test app as Ada through the control API and returns the install's JSON.
  boost::json::object install_app() {
    const Reply reply = control_post("/apps/" + kAppId + "/install", {{"admin_id", kAda}});
    EXPECT_EQ(reply.status, 200u) << reply.raw.body;
    return reply.body.is_object() ? reply.body.get_object() : boost::json::object{};
  }

  // Returns true once `condition` holds, polling until `timeout` has passed.
  static bool wait_for(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  boost::asio::io_context io_;
  std::unique_ptr<http::Client> client_ = make_client();
  std::unique_ptr<Emulator> emulator_;

 private:
  static boost::asio::awaitable<std::optional<Result<http::ClientResponse>>> spawnable(http::Client* client,
                                                                                        http::ClientRequest request) {
    co_return co_await client->request(std::move(request));
  }

  static std::unique_ptr<http::Client> make_client() {
    http::ClientOptions options;
    options.allow_plain_http = true;
    options.total_timeout = std::chrono::seconds(15);
    auto client = http::Client::create(options);
    return client.ok() ? std::move(client).value() : nullptr;
  }
};

}  // namespace wik::emulator::testing
