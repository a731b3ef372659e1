// The deauthorize callback end to end on a real store and server: verification (both encodings,
// every rejection, secret rotation), revocation at once, the purge that leaves no row, replays and
// stale requests that change nothing (DESIGN.md invariants 5–7).
#include "deauth/deauthorization.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>

#include "core/hex.h"
#include "core/hmac.h"
#include "http/client/client.h"
#include "http/server/server.h"
#include "http/url.h"
#include "store/sqlite/sqlite_database.h"
#include "support/fake_clock.h"
#include "support/result_matchers.h"
#include "support/run_coroutine.h"
#include "support/temp_dir.h"

namespace wik::deauth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using wik::testing::HasError;
using wik::testing::IsOk;

constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";
constexpr const char* kOldSecret = "fedcba9876543210fedcba9876543210";
constexpr const char* kCommunity = "100042";

class DeauthorizationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { spdlog::set_level(spdlog::level::warn); }

  void SetUp() override {
    auto database = store::SqliteDatabase::open({.path = dir_.path() / "wik.db"});
    ASSERT_THAT(database, IsOk());
    auto store = store::Store::open(std::move(database).value(), core::KeyRing::generate("k1"), clock_);
    ASSERT_THAT(store, IsOk());
    store_ = std::move(store).value();
    install(kCommunity);
    deauthorizer_ = std::make_unique<Deauthorizer>(*store_, std::vector<Secret>{Secret(kSecret)}, clock_);
  }

  void install(const std::string& community_id) {
    auto scope = store_->community(community_id);
    ASSERT_THAT(scope, IsOk());
    ASSERT_THAT(scope->put_installation({.community_name = "Acme", .access_token = AccessToken("TOKEN-" + community_id),
                                         .permissions = {"message"}}),
                IsOk());
    ASSERT_THAT(scope->insert_inbox_event({.topic = "page", .dedupe_key = "m1", .payload = "{}"}), IsOk());
  }

  std::string signed_request(boost::json::object payload, const char* secret = kSecret,
                             core::SignatureEncoding encoding = core::SignatureEncoding::kHexDigest) {
    return core::create_signed_request(payload, Secret(secret), encoding);
  }
  boost::json::object payload(std::int64_t issued_at_offset = 10) {
    return {{"algorithm", "HMAC-SHA256"},
            {"issued_at", clock_.unix_seconds() + issued_at_offset},
            {"community_id", kCommunity},
            {"user_id", "555"}};
  }

  store::Installation installation(const std::string& community_id = kCommunity) {
    auto scope = store_->community(community_id);
    auto found = scope->installation();
    EXPECT_THAT(found, IsOk());
    return found.ok() ? *found : store::Installation{};
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{1764370000};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Deauthorizer> deauthorizer_;
};

TEST_F(DeauthorizationTest, AVerifiedRequestRevokesAtOnceAndThePurgeLeavesNothing) {
  install("200042");
  clock_.advance(std::chrono::seconds(60));
  const auto outcome = deauthorizer_->handle(signed_request(payload()));
  ASSERT_THAT(outcome, IsOk());
  EXPECT_EQ(outcome->community_id, kCommunity);
  EXPECT_EQ(outcome->result, DeauthResult::kRevoked);
  ASSERT_TRUE(outcome->purge_job);

  const auto revoked = installation();
  EXPECT_EQ(revoked.state, store::InstallState::kRevoked);
  EXPECT_TRUE(revoked.access_token.empty());

  PurgeRunner runner(*store_);
  const auto finished = runner.run_pending();
  ASSERT_THAT(finished, IsOk());
  ASSERT_EQ(finished->size(), 1u);
  EXPECT_EQ(finished->front().state, store::PurgeState::kDone);
  EXPECT_THAT(store_->community(kCommunity)->installation(), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(store_->community(kCommunity)->insert_inbox_event({.topic = "page", .dedupe_key = "m2", .payload = "{}"}),
              HasError(ErrorCode::kNotFound));
  // Another community is untouched.
  EXPECT_EQ(installation("200042").state, store::InstallState::kActive);
  EXPECT_EQ(installation("200042").access_token.expose(), "TOKEN-200042");
  // The audit trail proves it.
  const auto trail = store_->audit_trail(kCommunity);
  ASSERT_THAT(trail, IsOk());
  EXPECT_FALSE(trail->empty());
}

TEST_F(DeauthorizationTest, BothSignatureEncodingsAndANumericCommunityIdAreAccepted) {
  clock_.advance(std::chrono::seconds(60));
  auto numeric = payload();
  numeric["community_id"] = 100042;
  EXPECT_THAT(deauthorizer_->handle(signed_request(numeric, kSecret, core::SignatureEncoding::kRawDigest)), IsOk());
  EXPECT_EQ(installation().state, store::InstallState::kRevoked);
}

TEST_F(DeauthorizationTest, AReplayIsHarmless) {
  clock_.advance(std::chrono::seconds(60));
  const std::string request = signed_request(payload());
  const auto first = deauthorizer_->handle(request);
  ASSERT_THAT(first, IsOk());
  const auto second = deauthorizer_->handle(request);
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(second->result, DeauthResult::kAlreadyRevoked);
  EXPECT_EQ(second->purge_job, first->purge_job);
  ASSERT_THAT(PurgeRunner(*store_).run_pending(), IsOk());
  const auto third = deauthorizer_->handle(request);
  ASSERT_THAT(third, IsOk());
  EXPECT_EQ(third->result, DeauthResult::kAlreadyRevoked);
}

TEST_F(DeauthorizationTest, ARequestIssuedBeforeTheCurrentInstallIsIgnored) {
  clock_.advance(std::chrono::seconds(60));
  const std::string captured = signed_request(payload());  // issued now + 10 s
  ASSERT_THAT(deauthorizer_->handle(captured), IsOk());
  ASSERT_THAT(PurgeRunner(*store_).run_pending(), IsOk());
  clock_.advance(std::chrono::seconds(120));
  install(kCommunity);  // reinstalled after the captured request was issued

  const auto replayed = deauthorizer_->handle(captured);
  ASSERT_THAT(replayed, IsOk());
  EXPECT_EQ(replayed->result, DeauthResult::kStaleIgnored);
  EXPECT_EQ(installation().state, store::InstallState::kActive);
  EXPECT_EQ(installation().access_token.expose(), std::string("TOKEN-") + kCommunity);
}

TEST_F(DeauthorizationTest, BadRequestsChangeNothingAndNeverRevealTheExpectedSignature) {
  clock_.advance(std::chrono::seconds(60));
  const std::string forged = signed_request(payload(), "an attacker's guess of the secret");
  const auto rejected = deauthorizer_->handle(forged);
  EXPECT_THAT(rejected, HasError(ErrorCode::kBadSignature));
  const std::string payload_segment = forged.substr(forged.find('.') + 1);
  const std::string expected_hex = core::to_hex(core::hmac_sha256(kSecret, payload_segment));
  EXPECT_THAT(rejected.error().reason() + rejected.error().detail(), Not(HasSubstr(expected_hex)));

  auto wrong_algorithm = payload();
  wrong_algorithm["algorithm"] = "HMAC-SHA1";
  EXPECT_THAT(deauthorizer_->handle(signed_request(wrong_algorithm)), HasError(ErrorCode::kUnsupported));
  EXPECT_THAT(deauthorizer_->handle(signed_request(payload(-2 * 3600))), HasError(ErrorCode::kExpired));
  auto no_community = payload();
  no_community.erase("community_id");
  EXPECT_THAT(deauthorizer_->handle(signed_request(no_community)), HasError(ErrorCode::kMalformed));
  auto hostile_community = payload();
  hostile_community["community_id"] = "100042' OR '1'='1";
  EXPECT_THAT(deauthorizer_->handle(signed_request(hostile_community)), HasError(ErrorCode::kMalformed));
  EXPECT_THAT(deauthorizer_->handle("not-a-signed-request"), HasError(ErrorCode::kMalformed));
  EXPECT_THAT(deauthorizer_->handle(std::string(9000, 'a') + "." + "b"), HasError(ErrorCode::kTooLarge));

  EXPECT_EQ(installation().state, store::InstallState::kActive);
  auto jobs = store_->list_purge_jobs();
  ASSERT_THAT(jobs, IsOk());
  EXPECT_TRUE(jobs->empty());
}

TEST_F(DeauthorizationTest, DuringASecretRotationTheOldSecretStillVerifies) {
  Deauthorizer rotating(*store_, {Secret(kSecret), Secret(kOldSecret)}, clock_);
  clock_.advance(std::chrono::seconds(60));
  EXPECT_THAT(rotating.handle(signed_request(payload(), kOldSecret)), IsOk());
  EXPECT_THAT(rotating.handle(signed_request(payload(), "neither")), HasError(ErrorCode::kBadSignature));
}

TEST_F(DeauthorizationTest, TheOldSecretVerifiesOnlyUntilTheRotationEnds) {
  Deauthorizer rotating(*store_, {Secret(kSecret), Secret(kOldSecret)}, clock_,
                        {.previous_secrets_until = clock_.now() + std::chrono::hours(1)});
  clock_.advance(std::chrono::minutes(59));
  EXPECT_THAT(rotating.handle(signed_request(payload(), kOldSecret)), IsOk());
  install("100043");
  auto other = payload();
  other["community_id"] = "100043";
  clock_.advance(std::chrono::minutes(1));
  EXPECT_THAT(rotating.handle(signed_request(other, kOldSecret)), HasError(ErrorCode::kBadSignature));
  EXPECT_EQ(installation("100043").state, store::InstallState::kActive);
  EXPECT_THAT(rotating.handle(signed_request(other, kSecret)), IsOk());
  EXPECT_EQ(installation("100043").state, store::InstallState::kRevoked);
}

TEST(SignedRequestFromBodyTest, ReadsFormAndJsonBodies) {
  EXPECT_EQ(signed_request_from_body("application/x-www-form-urlencoded", "a=1&signed_request=abc.def").value(),
            "abc.def");
  EXPECT_EQ(signed_request_from_body("application/json; charset=utf-8", R"({"signed_request":"abc.def"})").value(),
            "abc.def");
  EXPECT_THAT(signed_request_from_body("application/x-www-form-urlencoded", "a=1"), HasError(ErrorCode::kMalformed));
  EXPECT_THAT(signed_request_from_body("application/json", R"({"signed_request":7})"), HasError(ErrorCode::kMalformed));
  EXPECT_THAT(signed_request_from_body("application/json", "{"), HasError(ErrorCode::kMalformed));
  EXPECT_THAT(signed_request_from_body("text/plain", "signed_request=abc.def"), HasError(ErrorCode::kUnsupported));
  EXPECT_THAT(signed_request_from_body(std::nullopt, "signed_request=abc.def"), HasError(ErrorCode::kUnsupported));
}

// The route over HTTP, as the platform calls it.
class DeauthorizationRouteTest : public DeauthorizationTest {
 protected:
  void SetUp() override {
    DeauthorizationTest::SetUp();
    http::ServerOptions options;
    options.port = 0;
    options.io_threads = 1;
    options.access_log = false;
    server_ = std::make_unique<http::Server>(options);
    deauthorizer_->add_routes(server_->router());
    ASSERT_THAT(server_->start(), IsOk());
    http_ = std::move(http::Client::create({.allow_plain_http = true})).value();
  }

  Result<http::ClientResponse> post(std::string content_type, std::string body) {
    http::ClientRequest request{.method = boost::beast::http::verb::post,
                                .url = "http://127.0.0.1:" + std::to_string(server_->port()) + "/workplace/deauthorize",
                                .body = std::move(body)};
    request.headers.set(boost::beast::http::field::content_type, content_type);
    return testing::run_coroutine(io_, http_->request(std::move(request)));
  }

  boost::asio::io_context io_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Client> http_;
};

TEST_F(DeauthorizationRouteTest, AnswersTheFormPostAfterRevoking) {
  clock_.advance(std::chrono::seconds(60));
  const auto response = post("application/x-www-form-urlencoded",
                             http::encode_form({{"signed_request", signed_request(payload())}}));
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->status, 200u);
  EXPECT_EQ(response->body, R"({"result":"revoked"})");
  EXPECT_EQ(installation().state, store::InstallState::kRevoked);
}

TEST_F(DeauthorizationRouteTest, RefusesBadRequestsWithA4xxAndNoState) {
  clock_.advance(std::chrono::seconds(60));
  const std::string forged = signed_request(payload(), "guess");
  const auto bad = post("application/x-www-form-urlencoded", http::encode_form({{"signed_request", forged}}));
  ASSERT_THAT(bad, IsOk());
  EXPECT_EQ(bad->status, 403u);
  const std::string expected_hex =
      core::to_hex(core::hmac_sha256(kSecret, forged.substr(forged.find('.') + 1)));
  EXPECT_THAT(bad->body, Not(HasSubstr(expected_hex)));

  const auto wrong_type = post("text/plain", "signed_request=" + signed_request(payload()));
  ASSERT_THAT(wrong_type, IsOk());
  EXPECT_EQ(wrong_type->status, 415u);

  const auto oversized = post("application/x-www-form-urlencoded", std::string(20000, 'a'));
  ASSERT_THAT(oversized, IsOk());
  EXPECT_EQ(oversized->status, 413u);
  EXPECT_EQ(installation().state, store::InstallState::kActive);
}

}  // namespace
}  // namespace wik::deauth
