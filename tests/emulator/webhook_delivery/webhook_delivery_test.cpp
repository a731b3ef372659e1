// Tests of WebhookDelivery and the webhook serialiser against a real app server on loopback:
// signatures over the exact bytes (PROTOCOL.md §6.2), escaping, batching and the retry schedule
// (§6.3) on a FakeClock, verification (§6.1), the deauthorization POST (§5) and link requests (§6.5).
#include "emulator/webhook_delivery/webhook_delivery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <thread>

#include "core/hub_signature.h"
#include "core/signed_request.h"
#include "delivery_fixture.h"
#include "emulator/webhook_delivery/events.h"
#include "http/server/message.h"
#include "support/result_matchers.h"

namespace wik::emulator::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using wik::testing::HasError;
using wik::testing::IsOk;

// --- serialisation and signing (no network) -----------------------------------------------------

TEST(SignWebhookBody, MatchesTheProtocolTestVector) {
  const HubSignatures signatures = sign_webhook_body(kSecret, R"({"object":"page","entry":[]})");
  EXPECT_EQ(signatures.sha1, "sha1=10399b38a47b48f99f6cd3d05a5f7f9314fc41d0");
  EXPECT_EQ(signatures.sha256, "sha256=7cbc46b042d7e131c845c3f08d7028636dc75bdd529a85bfd25451ef6fc04d04");
}

TEST(SerializeAscii, EscapesEveryNonAsciiCharacterWithLowerCaseHex) {
  const json::value value = {{"text", "Grüße \xE2\x82\xAC 日本"}};
  EXPECT_EQ(events::serialize_ascii(value), R"({"text":"Gr\u00fc\u00dfe \u20ac \u65e5\u672c"})");
}

TEST(SerializeAscii, WritesAstralCharactersAsSurrogatePairs) {
  EXPECT_EQ(events::serialize_ascii(json::value("\xF0\x9F\x91\x8B")), R"("\ud83d\udc4b")");
}

TEST(SerializeAscii, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(events::serialize_ascii(json::value("a\"b\\c\n\t\x01\x7F")), R"("a\"b\\c\n\t\u0001\u007f")");
}

TEST(SerializeAscii, ReplacesInvalidUtf8) {
  EXPECT_EQ(events::serialize_ascii(json::value("a\xFF" "b\xC3")), R"("a\ufffdb\ufffd")");
}

TEST(SerializeAscii, KeepsNumbersKeyOrderAndRoundTrips) {
  const json::value value = json::parse(R"({"z":1,"a":[true,null,-2.5,18446744073709551615],"k":"ü👋"})");
  const std::string text = events::serialize_ascii(value);
  EXPECT_EQ(text.substr(0, 6), R"({"z":1)");
  EXPECT_EQ(json::parse(text), value);
  for (const char c : text) EXPECT_LT(static_cast<unsigned char>(c), 0x80);
}

TEST(Iso8601, UsesAnOffsetWithoutColon) {
  EXPECT_EQ(events::iso8601(1533423509), "2018-08-04T22:58:29+0000");
}

// --- event deliveries ---------------------------------------------------------------------------

class WebhookDeliveryTest : public DeliveryFixture {
 protected:
  void SetUp() override {
    app_id_ = register_app("7001", "Helpdesk");
    subscribe(app_id_, "page", {"messages", "mention"});
  }

  // Publishes one chat item saying `text` to the app.
  void publish_text(const std::string& text, const std::string& entry_id = "9001") {
    delivery_->publish(app_id_, "page", "messages", entry_id, json::object{{"message", {{"text", text}}}});
  }

  std::vector<DeliveryAttempt> attempts() const { return delivery_->log(app_id_); }

  Id app_id_;
};

TEST_F(WebhookDeliveryTest, SignsTheExactBytesItSends) {
  publish_text("hello");
  ASSERT_TRUE(app_.wait_for_requests("/hook", 1));
  const ReceivedRequest request = app_.requests("/hook").front();
  EXPECT_EQ(request.headers.at("content-type"), "application/json");
  const Secret secret(kSecret);
  EXPECT_THAT(core::verify_hub_signature(core::HubAlgorithm::kSha256, request.headers.at("x-hub-signature-256"),
                                         request.body, secret),
              IsOk());
  EXPECT_THAT(core::verify_hub_signature(core::HubAlgorithm::kSha1, request.headers.at("x-hub-signature"),
                                         request.body, secret),
              IsOk());
}

TEST_F(WebhookDeliveryTest, SendsNonAsciiTextEscapedAndItParsesToTheOriginal) {
  const std::string text = "Grüße 👋 日本";
  publish_text(text);
  ASSERT_TRUE(app_.wait_for_requests("/hook", 1));
  const ReceivedRequest request = app_.requests("/hook").front();
  EXPECT_THAT(request.body, HasSubstr(R"(Gr\u00fc\u00dfe \ud83d\udc4b \u65e5\u672c)"));
  for (const char c : request.body) ASSERT_LT(static_cast<unsigned char>(c), 0x80) << request.body;
  const Secret secret(kSecret);
  EXPECT_THAT(core::verify_webhook_signature({.sha256 = request.headers.at("x-hub-signature-256")}, request.body,
                                             secret, false),
              IsOk());
  const json::value body = parse_body(request);
  EXPECT_EQ(body.at("entry").at(0).at("messaging").at(0).at("message").at("text").as_string(), text);
}

TEST_F(WebhookDeliveryTest, WrapsChatItemsAsMessagingAndOtherFieldsAsChanges) {
  publish_text("hi");
  delivery_->publish(app_id_, "page", "mention", "9001", json::object{{"item", "post"}});
  ASSERT_TRUE(app_.wait_for_requests("/hook", 1));
  const auto entries = received_entries(app_);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].at("id").as_string(), "9001");
  EXPECT_EQ(entries[0].at("time").as_int64(), clock_.unix_seconds() * 1000);  // ms for messaging
  EXPECT_EQ(entries[0].at("messaging").at(0).at("message").at("text").as_string(), "hi");
  EXPECT_EQ(entries[1].at("time").as_int64(), clock_.unix_seconds());  // s for changes
  EXPECT_EQ(entries[1].at("changes").at(0), json::parse(R"({"field":"mention","value":{"item":"post"}})"));
}

TEST_F(WebhookDeliveryTest, BatchesItemsQueuedTogetherIntoOnePost) {
  publish_text("one", "9001");
  publish_text("two", "9002");
  publish_text("three", "9003");
  ASSERT_TRUE(app_.wait_for_requests("/hook", 1));
  ASSERT_TRUE(wait_for_log([](const DeliveryAttempt& a) { return a.delivered; }));
  const auto requests = app_.requests("/hook");
  ASSERT_EQ(requests.size(), 1u);
  const json::value body = parse_body(requests.front());
  EXPECT_EQ(body.at("object").as_string(), "page");
  EXPECT_EQ(body.at("entry").as_array().size(), 3u);
}

TEST_F(WebhookDeliveryTest, ItemsQueuedWithinTheFlushTickShareOnePost) {
  make_delivery({.flush_tick = std::chrono::seconds(2)});
  publish_text("one", "9001");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // five default ticks
  publish_text("two", "9002");
  ASSERT_TRUE(app_.wait_for_requests("/hook", 1));
  ASSERT_TRUE(wait_for_log([](const DeliveryAttempt& a) { return a.delivered; }));
  const auto requests = app_.requests("/hook");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(parse_body(requests.front()).at("entry").as_array().size(), 2u);
}

TEST_F(WebhookDeliveryTest, SplitsABatchAtMaxBatchEntries) {
  make_delivery({.max_batch = 2});
  publish_text("one", "9001");
  publish_text("two", "9002");
  publish_text("three", "9003");
  ASSERT_TRUE(app_.wait_for_requests("/hook", 2));
  std::vector<std::size_t> sizes;
  for (const auto& request : app_.requests("/hook")) sizes.push_back(parse_body(request).at("entry").as_array().size());
  std::sort(sizes.begin(), sizes.end());
  EXPECT_THAT(sizes, ElementsAre(1u, 2u));
  EXPECT_EQ(received_entries(app_).size(), 3u);
}

TEST_F(WebhookDeliveryTest, SendsNothingForFieldsOrAppsNotSubscribed) {
  delivery_->publish(app_id_, "page", "message_reads", "9001", json::object{{"read", {{"watermark", 1}}}});
  delivery_->publish(app_id_, "group", "posts", "9001", json::object{{"message", "x"}});
  delivery_->publish("no-such-app", "page", "messages", "9001", json::object{});
  publish_text("sentinel");
  ASSERT_TRUE(app_.wait_for_requests("/hook", 1));
  const auto entries = received_entries(app_);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].at("messaging").at(0).at("message").at("text").as_string(), "sentinel");
}

TEST_F(WebhookDeliveryTest, RetriesAfterA500OnTheScheduleOfThePlatformClock) {
  app_.answer_next({500, 503});
  publish_text("retry me");
  ASSERT_TRUE(wait_for_log([](const DeliveryAttempt& a) { return a.attempt == 1; }));
  EXPECT_EQ(attempts().front().status, 500u);
  EXPECT_FALSE(attempts().front().final);

  clock_.advance(14s);  // not yet due
  delivery_->run_due_retries();
  clock_.advance(1s);  // 15 s after the first attempt
  delivery_->run_due_retries();
  ASSERT_TRUE(wait_for_log([](const DeliveryAttempt& a) { return a.attempt == 2; }));
  clock_.advance(44s);  // 59 s: the third attempt is due at 1 min
  delivery_->run_due_retries();
  clock_.advance(1s);
  delivery_->run_due_retries();
  ASSERT_TRUE(wait_for_log([](const DeliveryAttempt& a) { return a.delivered; }));

  const auto log = attempts();
  ASSERT_EQ(log.size(), 3u);
  const std::int64_t first_ms = log[0].at_ms;
  EXPECT_EQ(log[1].at_ms - first_ms, 15'000);
  EXPECT_EQ(log[2].at_ms - first_ms, 60'000);
  EXPECT_EQ(log[1].status, 503u);
  EXPECT_EQ(log[1].error, "HTTP 503");
  EXPECT_TRUE(log[2].delivered && log[2].final);
  EXPECT_EQ(log[0].delivery_id, log[2].delivery_id);
  const auto requests = app_.requests("/hook");
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].body, requests[2].body);  // the same bytes every time
  EXPECT_EQ(requests[0].headers.at("x-hub-signature-256"), requests[2].headers.at("x-hub-signature-256"));
}

TEST_F(WebhookDeliveryTest, RetriesAfterConnectionRefusedAndGivesUpAfterTheLastAttempt) {
  state_->subscribe(app_id_, Subscription{.object = "page", .callback_url = refused_url(), .fields = {"messages"}});
  publish_text("nobody listens");
  ASSERT_TRUE(wait_for_log([](const DeliveryAttempt& a) { return a.attempt == 1; }));
  for (std::size_t n = 1; n < kRetrySchedule.size(); ++n) {
    clock_.advance(kRetrySchedule[n] - kRetrySchedule[n - 1]);
    delivery_->run_due_retries();
    ASSERT_TRUE(wait_for_log([n](const DeliveryAttempt& a) { return a.attempt == static_cast<int>(n + 1); }))
        << "attempt " << n + 1;
  }
  clock_.advance(std::chrono::hours(48));
  delivery_->run_due_retries();

  const auto log = attempts();
  ASSERT_EQ(log.size(), kRetrySchedule.size());
  for (std::size_t n = 0; n < log.size(); ++n) {
    EXPECT_EQ(log[n].at_ms - log[0].at_ms, std::chrono::duration_cast<std::chrono::milliseconds>(kRetrySchedule[n]).count());
    EXPECT_EQ(log[n].status, 0u);
    EXPECT_THAT(log[n].error, HasSubstr("connect"));
    EXPECT_FALSE(log[n].delivered);
    EXPECT_EQ(log[n].final, n + 1 == log.size());
  }
}

TEST_F(WebhookDeliveryTest, RetriesAfterATimeout) {
  make_delivery({.timeout = 200ms});
  app_.delay_next(1, 2s);
  publish_text("slow app");
  ASSERT_TRUE(wait_for_log([](const DeliveryAttempt& a) { return a.attempt == 1; }));
  EXPECT_EQ(attempts().front().error, "timeout");
  clock_.advance(15s);
  delivery_->run_due_retries();
  ASSERT_TRUE(wait_for_log([](const DeliveryAttempt& a) { return a.delivered; }));
  EXPECT_EQ(attempts().back().attempt, 2);
}

TEST_F(WebhookDeliveryTest, TheRetryLoopSendsDueRetriesWithoutBeingAsked) {
  app_.answer_next({500});
  publish_text("loop");
  ASSERT_TRUE(wait_for_log([](const DeliveryAttempt& a) { return a.attempt == 1; }));
  clock_.advance(15s);  // the loop wakes within kRetryLoopPeriod of real time
  EXPECT_TRUE(wait_for_log([](const DeliveryAttempt& a) { return a.delivered; }, kRetryLoopPeriod * 8));
}

TEST_F(WebhookDeliveryTest, TheLogIsBoundedAndDropsTheOldest) {
  make_delivery({.log_capacity = 2});
  for (const char* text : {"a", "b", "c"}) {
    publish_text(text);
    const std::string needle = std::string(R"("text":")") + text + '"';
    ASSERT_TRUE(wait_for_log([&](const DeliveryAttempt& a) { return a.body.find(needle) != std::string::npos; }));
  }
  const auto log = attempts();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_THAT(log[0].body, HasSubstr(R"("text":"b")"));
  EXPECT_THAT(log[1].body, HasSubstr(R"("text":"c")"));
}

TEST_F(WebhookDeliveryTest, RefuseFaultFailsTheAttemptWithoutSending) {
  make_delivery({.fault_seed = 42});
  delivery_->set_faults(app_id_, {.refuse_rate = 1.0});
  publish_text("refused");
  ASSERT_TRUE(wait_for_log([](const DeliveryAttempt& a) { return a.attempt == 1; }));
  EXPECT_THAT(attempts().front().error, HasSubstr("callback fault"));
  EXPECT_TRUE(app_.requests("/hook").empty());

  delivery_->set_faults(app_id_, {});
  clock_.advance(15s);
  delivery_->run_due_retries();
  ASSERT_TRUE(wait_for_log([](const DeliveryAttempt& a) { return a.delivered; }));
  EXPECT_EQ(app_.requests("/hook").size(), 1u);
}

TEST_F(WebhookDeliveryTest, LatencyFaultDelaysTheAttempt) {
  delivery_->set_faults(std::nullopt, {.added_latency = 150ms});
  const auto started = std::chrono::steady_clock::now();
  publish_text("late");
  ASSERT_TRUE(app_.wait_for_requests("/hook", 1));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 150ms);
}

TEST_F(WebhookDeliveryTest, StopAbandonsPendingRetries) {
  app_.answer_next({500});
  publish_text("abandoned");
  ASSERT_TRUE(wait_for_log([](const DeliveryAttempt& a) { return a.attempt == 1; }));
  delivery_->stop();
  const auto log = attempts();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(log[0].final);
  EXPECT_THAT(log[0].error, HasSubstr("abandoned"));
}

// --- verification GET (PROTOCOL.md §6.1) --------------------------------------------------------

class VerificationTest : public WebhookDeliveryTest {
 protected:
  Subscription subscription() const {
    return {.object = "page", .callback_url = app_.url("/hook"), .verify_token = "tok en&=", .fields = {"messages"}};
  }
};

TEST_F(VerificationTest, SucceedsWhenTheCallbackEchoesTheChallenge) {
  EXPECT_THAT(verify(app_id_, subscription()), IsOk());
  const auto requests = app_.requests("/hook");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].query.at("hub.mode"), "subscribe");
  EXPECT_EQ(requests[0].query.at("hub.verify_token"), "tok en&=");
  EXPECT_FALSE(requests[0].query.at("hub.challenge").empty());
  ASSERT_EQ(attempts().size(), 1u);
  EXPECT_EQ(attempts()[0].kind, "verification");
  EXPECT_TRUE(attempts()[0].delivered);
}

TEST_F(VerificationTest, UsesAFreshChallengeEachTime) {
  ASSERT_THAT(verify(app_id_, subscription()), IsOk());
  ASSERT_THAT(verify(app_id_, subscription()), IsOk());
  const auto requests = app_.requests("/hook");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[0].query.at("hub.challenge"), requests[1].query.at("hub.challenge"));
}

TEST_F(VerificationTest, FailsWhenTheBodyIsNotTheChallenge) {
  app_.set_verification_answer(VerificationAnswer::kWrongBody);
  EXPECT_THAT(verify(app_id_, subscription()), HasError(ErrorCode::kPermissionDenied, HasSubstr("hub.challenge")));
}

TEST_F(VerificationTest, FailsOnA403) {
  app_.set_verification_answer(VerificationAnswer::kForbidden);
  EXPECT_THAT(verify(app_id_, subscription()), HasError(ErrorCode::kPermissionDenied, HasSubstr("HTTP 403")));
}

TEST_F(VerificationTest, FailsOnATimeout) {
  make_delivery({.timeout = 200ms});
  app_.set_verification_answer(VerificationAnswer::kSlow);
  EXPECT_THAT(verify(app_id_, subscription()), HasError(ErrorCode::kPermissionDenied, HasSubstr("timeout")));
}

TEST_F(VerificationTest, FailsWhenNothingListens) {
  Subscription unreachable = subscription();
  unreachable.callback_url = refused_url();
  EXPECT_THAT(verify(app_id_, unreachable), HasError(ErrorCode::kPermissionDenied));
}

// --- deauthorization POST (PROTOCOL.md §5) ------------------------------------------------------

class DeauthorizeTest : public WebhookDeliveryTest {
 protected:
  // Uninstalls through the delivery as PlatformActions does, and returns the received signed_request.
  std::string deauthorize_and_receive() {
    auto install = state_->install_directly(app_id_, admin_.id);
    EXPECT_THAT(install, IsOk());
    if (!install.ok()) return "";
    delivery_->deauthorize(*install, admin_.id);
    if (!app_.wait_for_requests("/deauth", 1)) return "";
    const ReceivedRequest request = app_.requests("/deauth").front();
    EXPECT_EQ(request.headers.at("content-type"), "application/x-www-form-urlencoded");
    auto form = http::parse_form(request.body);
    EXPECT_THAT(form, IsOk());
    if (!form.ok()) return "";
    return std::string(form->find("signed_request").value_or(""));
  }

  void expect_payload(const core::SignedRequest& request) {
    EXPECT_EQ(request.payload.at("algorithm").as_string(), "HMAC-SHA256");
    EXPECT_EQ(request.payload.at("issued_at").as_int64(), clock_.unix_seconds());
    EXPECT_EQ(request.payload.at("community_id").as_string(), community_.id);
    EXPECT_EQ(request.payload.at("user_id").as_string(), state_->scoped_user_id(app_id_, admin_.id));
    EXPECT_NE(request.payload.at("user_id").as_string(), admin_.id);  // app-scoped, not the platform id
  }
};

TEST_F(DeauthorizeTest, SendsAHexFormSignedRequestWithTheFourFields) {
  const std::string signed_request = deauthorize_and_receive();
  const auto verified = core::verify_signed_request(signed_request, Secret(kSecret), clock_.unix_seconds(),
                                                    {.max_age = 1h, .require_issued_at = true, .require_algorithm = true});
  ASSERT_THAT(verified, IsOk());
  EXPECT_EQ(verified->encoding, core::SignatureEncoding::kHexDigest);
  expect_payload(*verified);
  ASSERT_TRUE(wait_for_log([](const DeliveryAttempt& a) { return a.kind == "deauthorize" && a.delivered; }));
}

TEST_F(DeauthorizeTest, SendsTheRawFormWhenAsked) {
  make_delivery({.raw_signed_request = true});
  const std::string signed_request = deauthorize_and_receive();
  const auto verified = core::verify_signed_request(signed_request, Secret(kSecret), clock_.unix_seconds());
  ASSERT_THAT(verified, IsOk());
  EXPECT_EQ(verified->encoding, core::SignatureEncoding::kRawDigest);
  expect_payload(*verified);
}

TEST_F(DeauthorizeTest, DoesNotVerifyWithAnotherSecret) {
  const std::string signed_request = deauthorize_and_receive();
  EXPECT_THAT(core::verify_signed_request(signed_request, Secret("another-secret"), clock_.unix_seconds()),
              HasError(ErrorCode::kBadSignature));
}

TEST_F(DeauthorizeTest, IsRetriedOnTheSameSchedule) {
  auto install = state_->install_directly(app_id_, admin_.id);
  ASSERT_THAT(install, IsOk());
  App app = *state_->app(app_id_);
  app.deauthorize_url = refused_url();
  ASSERT_THAT(state_->register_app(app), IsOk());
  delivery_->deauthorize(*install, admin_.id);
  ASSERT_TRUE(wait_for_log([](const DeliveryAttempt& a) { return a.kind == "deauthorize" && a.attempt == 1; }));
  clock_.advance(15s);
  delivery_->run_due_retries();
  ASSERT_TRUE(wait_for_log([](const DeliveryAttempt& a) { return a.kind == "deauthorize" && a.attempt == 2; }));
  EXPECT_FALSE(attempts().back().final);
}

// --- link requests (PROTOCOL.md §6.5) -----------------------------------------------------------

class LinkTest : public WebhookDeliveryTest {
 protected:
  void SetUp() override {
    WebhookDeliveryTest::SetUp();
    subscribe(app_id_, "link", {"preview"});
  }
  json::value preview_value() const {
    return events::link_value(std::string("https://vendor.example/doc/8"), community_.id, "555");
  }
};

TEST_F(LinkTest, ReturnsTheAppsAnswerAndSignsTheRequest) {
  app_.set_link_answer(R"({"data":[{"link":"https://vendor.example/doc/8","title":"Q3 plan"}],"linked_user":true})");
  const auto answer = request_link(app_id_, "preview", preview_value());
  ASSERT_THAT(answer, IsOk());
  EXPECT_EQ(answer->at("data").at(0).at("title").as_string(), "Q3 plan");

  const ReceivedRequest request = app_.requests("/link").front();
  EXPECT_THAT(core::verify_hub_signature(core::HubAlgorithm::kSha256, request.headers.at("x-hub-signature-256"),
                                         request.body, Secret(kSecret)),
              IsOk());
  const json::value body = parse_body(request);
  EXPECT_EQ(body.at("object").as_string(), "link");
  const json::value& change = body.at("entry").at(0).at("changes").at(0);
  EXPECT_EQ(change.at("field").as_string(), "preview");
  EXPECT_EQ(change.at("value").at("link").as_string(), "https://vendor.example/doc/8");
  EXPECT_EQ(change.at("value").at("community").at("id").as_string(), community_.id);
  EXPECT_EQ(change.at("value").at("user").at("id").as_string(), "555");
  ASSERT_EQ(attempts().size(), 1u);
  EXPECT_EQ(attempts()[0].kind, "link");
}

TEST_F(LinkTest, TimesOut) {
  make_delivery({.link_timeout = 200ms});
  app_.delay_next(1, 2s);
  EXPECT_THAT(request_link(app_id_, "preview", preview_value()), HasError(ErrorCode::kTimeout));
  EXPECT_EQ(attempts().back().error, "timeout");
}

TEST_F(LinkTest, RejectsAnAnswerThatIsNotAJsonObject) {
  app_.set_link_answer("<html>oops</html>");
  EXPECT_THAT(request_link(app_id_, "preview", preview_value()), HasError(ErrorCode::kMalformed));
}

TEST_F(LinkTest, RequiresASubscriptionToTheField) {
  EXPECT_THAT(request_link(app_id_, "collection", preview_value()), HasError(ErrorCode::kNotFound));
  EXPECT_TRUE(app_.requests("/link").empty());
}

}  // namespace
}  // namespace wik::emulator::testing
