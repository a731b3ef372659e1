// GraphFixture: the emulated Graph host on loopback, talked to only with plain HTTP requests, as an
// independent client would. It builds a PlatformState in memory on a FakeClock (the seeded "Acme
// Corp" plus a second community, "Globex"), registers two apps, installs them by minting codes with
// PlatformState::issue_code and exchanging them over /oauth/access_token, and offers helpers to
// sign calls (appsecret_proof/appsecret_time) and to read the platform's error envelope.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "emulator/graph_api/faults.h"
#include "emulator/graph_api/graph_api.h"
#include "emulator/state/platform_state.h"
#include "emulator/webhook_delivery/webhook_delivery.h"
#include "http/client/client.h"
#include "http/server/server.h"
#include "support/fake_clock.h"

namespace wik::emulator::testing {

inline constexpr std::string_view kAppId = "9000000000000001";
inline constexpr std::string_view kOtherAppId = "9000000000000002";
inline constexpr std::string_view kSecret = "0123456789abcdef0123456789abcdef";
inline constexpr std::string_view kOtherSecret = "fedcba9876543210fedcba9876543210";
inline constexpr std::string_view kRedirect = "https://vendor.example/workplace/install";

// What came back for one request: the status, headers and parsed JSON body, or nothing at all.
struct Answer {
  bool answered = false;
  unsigned status = 0;
  boost::beast::http::fields headers;
  std::string raw;
  boost::json::value body;

  std::string header(std::string_view name) const;
  // Returns body.error as an object (empty when there is none).
  const boost::json::object& error() const;
};

// A signed call's credentials.
struct Credentials {
  std::string token;
  std::string secret;
};

class GraphFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  void SetUp() override;
  void TearDown() override;

  // Sends a request to the Graph host and returns what came back (within 15 s).
  Answer send(boost::beast::http::verb method, const std::string& target, std::string body = {},
              std::string content_type = {}, std::vector<std::pair<std::string, std::string>> headers = {});
  // Returns "access_token=…&appsecret_proof=…&appsecret_time=…" for `credentials` at now + `skew_s`.
  std::string signed_query(const Credentials& credentials, std::int64_t skew_s = 0) const;
  // Signed GET of `path` (may carry its own "?query") with the main install's token.
  Answer get(const std::string& path, const Credentials& credentials);
  Answer get(const std::string& path) { return get(path, acme_); }
  // Signed POST/DELETE with a JSON body.
  Answer post_json(const std::string& path, const boost::json::value& body, const Credentials& credentials);
  Answer post_json(const std::string& path, const boost::json::value& body) { return post_json(path, body, acme_); }
  Answer delete_json(const std::string& path, const boost::json::value& body);
  // Exchanges a fresh code of `app_id` for `admin_id`'s community and returns the token.
  std::string install(std::string_view app_id, std::string_view secret, const Id& admin_id,
                      std::vector<std::string> permissions);
  // Returns the app-scoped id of a seeded Acme person (0 = the admin) for the main app.
  Id scoped(std::size_t person, std::string_view app_id = kAppId);
  std::string base_url() const;

  wik::testing::FakeClock clock_;
  std::unique_ptr<PlatformState> state_;
  boost::asio::io_context delivery_io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> delivery_work_;
  std::thread delivery_thread_;
  std::unique_ptr<WebhookDelivery> delivery_;
  GraphFaults faults_{7};
  std::unique_ptr<RateLimits> limits_;
  std::unique_ptr<GraphApi> api_;
  std::unique_ptr<http::Server> server_;
  boost::asio::io_context client_io_;
  std::unique_ptr<http::Client> client_;

  Community acme_community_;
  Community globex_community_;
  std::vector<User> acme_people_;  // seeded order; [0] is the system administrator
  User globex_admin_;
  Group acme_group_;
  Group globex_group_;
  Credentials acme_;          // main app in Acme, every permission
  Credentials limited_;       // other app in Acme, bot_mention only
  Credentials globex_;        // main app in Globex
  Credentials app_token_;     // "{app_id}|{secret}" of the main app
};

// Returns `text` percent-encoded for a query value.
std::string url_encode(std::string_view text);

// Checks the platform's error envelope (§11.1): HTTP status, type, code, subcode (absent when
// nullopt) and a non-empty fbtrace_id.
::testing::AssertionResult IsGraphError(const Answer& answer, unsigned status, std::string_view type, int code,
                                        std::optional<int> subcode = std::nullopt);

}  // namespace wik::emulator::testing
