// Test fixture of the delivery part: a platform (PlatformState on a FakeClock), a WebhookDelivery
// running on its own io_context thread, and RecordingApp, a real http::Server on port 0 playing an
// app's servers. RecordingApp records every request it receives (raw body and headers) and answers
// as the test scripts it: statuses to return, a delay, what to answer the verification GET and the
// link request. Waiting is explicit: wait_for_* helpers take a timeout and return an AssertionResult.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "emulator/state/platform_state.h"
#include "emulator/webhook_delivery/webhook_delivery.h"
#include "http/server/server.h"
#include "support/fake_clock.h"

namespace wik::emulator::testing {

// One request as the app received it.
struct ReceivedRequest {
  std::string method;
  std::string path;
  std::string target;  // raw, with the query
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// How the app answers the verification GET.
enum class VerificationAnswer { kEchoChallenge, kWrongBody, kForbidden, kSlow };

class RecordingApp {
 public:
  RecordingApp();
  ~RecordingApp();

  // Returns "http://127.0.0.1:{port}{path}". Paths: /hook (events and verification), /deauth, /link.
  std::string url(const std::string& path) const;

  // Makes the next POSTs to /hook answer these statuses, in order (then 200).
  void answer_next(std::vector<unsigned> statuses);
  // Makes the next `count` requests wait `delay` before answering.
  void delay_next(std::size_t count, std::chrono::milliseconds delay);
  void set_verification_answer(VerificationAnswer answer) { verification_answer_ = answer; }
  // Sets the raw body /link answers with (status 200, application/json).
  void set_link_answer(std::string body);

  // Returns every request received so far, optionally only those to `path`.
  std::vector<ReceivedRequest> requests(const std::optional<std::string>& path = std::nullopt) const;
  // Waits until `predicate` holds for the requests received so far.
  ::testing::AssertionResult wait_until(const std::function<bool(const std::vector<ReceivedRequest>&)>& predicate,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  // Waits until at least `count` requests to `path` arrived.
  ::testing::AssertionResult wait_for_requests(const std::string& path, std::size_t count,
                                               std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

 private:
  static boost::asio::awaitable<http::Response> handle(RecordingApp& app, http::Request& request);

  http::Server server_;
  mutable std::mutex mutex_;
  mutable std::condition_variable arrived_;
  std::vector<ReceivedRequest> received_;
  std::deque<unsigned> statuses_;
  std::size_t delayed_count_ = 0;
  std::chrono::milliseconds delay_{0};
  VerificationAnswer verification_answer_ = VerificationAnswer::kEchoChallenge;
  std::string link_answer_ = R"({"data":[],"linked_user":true})";
};

inline constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";

class DeliveryFixture : public ::testing::Test {
 protected:
  DeliveryFixture();
  ~DeliveryFixture() override;

  // (Re)creates the WebhookDelivery with `options` (the constructor makes one with defaults).
  void make_delivery(DeliveryOptions options);

  // Registers an app whose callbacks all point at `app_` (deauthorize: /deauth). Returns its id.
  Id register_app(const std::string& id, const std::string& name);
  // Subscribes an app to `object` with `fields` at /hook?app={app_id} (link: /link?app={app_id}).
  void subscribe(const Id& app_id, const std::string& object, std::set<std::string> fields);
  // Run WebhookDelivery::verify / request_link on the delivery's io_context and return the result
  // (kInternal when it did not finish within 10 s).
  Result<void> verify(const Id& app_id, const Subscription& subscription);
  Result<boost::json::value> request_link(const Id& app_id, const std::string& field, boost::json::value value);

  // Waits until the delivery log holds an attempt for which `predicate` is true.
  ::testing::AssertionResult wait_for_log(const std::function<bool(const DeliveryAttempt&)>& predicate,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  // Returns a URL of a loopback port nothing listens on.
  static std::string refused_url();

  wik::testing::FakeClock clock_;
  std::unique_ptr<PlatformState> state_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread io_thread_;
  RecordingApp app_;
  std::unique_ptr<WebhookDelivery> delivery_;
  Community community_;
  User admin_;
};

// Returns the parsed JSON body of a request (fails the test and returns null on bad JSON).
boost::json::value parse_body(const ReceivedRequest& request);
// Returns every entry of every event request to /hook received so far, in order, optionally only
// of the requests for one app (the "app" query parameter of its callback URL).
std::vector<boost::json::value> received_entries(const RecordingApp& app, const std::optional<Id>& app_id = std::nullopt);
// The same, of a list of requests (for RecordingApp::wait_until predicates).
std::vector<boost::json::value> entries_in(const std::vector<ReceivedRequest>& requests,
                                           const std::optional<Id>& app_id = std::nullopt);

}  // namespace wik::emulator::testing
