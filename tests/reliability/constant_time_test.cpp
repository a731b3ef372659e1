// B8 (docs/RELIABILITY.md): every comparison of a secret takes a time that does not depend on
// where the compared values differ. A dudect-style timing test (tests/support/dudect.h) runs on
// core::constant_time_equal itself and on each public path that compares a secret: the webhook
// signature check (SHA-256 and the legacy SHA-1), signed_request (both signature encodings), the
// appsecret_proof check, the webhook handshake's verify token, the kit's CSRF check, and the
// emulator's CSRF and app-secret checks. Each must stay below |t| = 10. A positive control, a
// naive early-exit compare under the same harness, must reach it, which proves the harness sees
// such a leak; a second control does so behind an HMAC, as a naive signature check would leak.
//
// The two classes, per function: "fixed" is the expected value with its last byte changed (the
// same input every time); "random" is the expected value with its first byte changed to a random
// other value. Both are wrong, so every call takes the same rejection path, and both have the
// expected length. An early-exit compare stops after one byte on one class and after all of them
// on the other. The changed byte keeps the character class of the one it replaces (hex digit or
// letter per nibble, letter case, digit) so the public decoding of the attacker's own input (hex,
// base64url, percent-decoding) takes the same branches in both classes: a timing difference there
// says nothing about the secret and would be a false alarm.
//
// WIK_B8_MEASUREMENTS sets the measurements of every function (by default 15,000-60,000 each, about
// 5 s of CPU in all in a Debug build); WIK_B8_SEED fixes the seed of the classes and changed bytes
// (random otherwise, and printed with a failure).
#include "core/constant_time.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/appsecret_proof.h"
#include "core/base64url.h"
#include "core/hex.h"
#include "core/hmac.h"
#include "core/hub_signature.h"
#include "core/secure_random.h"
#include "core/signed_request.h"
#include "emulator/pages/sessions.h"
#include "emulator/state/platform_state.h"
#include "graph/graph_client.h"
#include "http/client/client.h"
#include "http/server/metrics.h"
#include "http/server/router.h"
#include "install/installer.h"
#include "store/sqlite/sqlite_database.h"
#include "store/store.h"
#include "support/dudect.h"
#include "support/fake_clock.h"
#include "support/run_coroutine.h"
#include "support/temp_dir.h"
#include "webhooks/ingest.h"

namespace wik {
namespace {

namespace dudect = testing::dudect;
namespace http_proto = boost::beast::http;
using dudect::Expect;
using dudect::InputClass;

// ---- settings ---------------------------------------------------------------------------------

// Returns environment variable `name` as a number, or `fallback` when it is unset or not a number.
std::uint64_t from_environment(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  std::uint64_t value = 0;
  const char* end = text + std::char_traits<char>::length(text);
  const auto [stop, error] = std::from_chars(text, end, value);
  return error == std::errc() && stop == end ? value : fallback;
}

std::uint64_t run_seed() {
  static const std::uint64_t seed = from_environment("WIK_B8_SEED", std::random_device{}());
  return seed;
}

// The measurement settings of one function: `measurements` unless WIK_B8_MEASUREMENTS says otherwise.
dudect::Options options_for(std::size_t measurements, std::size_t calls_per_measurement, std::uint64_t salt) {
  return {.measurements = static_cast<std::size_t>(
              std::clamp<std::uint64_t>(from_environment("WIK_B8_MEASUREMENTS", measurements), 10000, 100000000)),
          .calls_per_measurement = calls_per_measurement,
          .chunk = 1024,
          .warmup = 2048,
          .seed = run_seed() * 1000 + salt};
}

// ---- the two classes --------------------------------------------------------------------------

// What a changed byte must keep of the one it replaces.
enum class Keep {
  kNothing,     // any other byte (compared raw, or encoded by a table: base64url)
  kHexNibbles,  // each nibble stays a digit (0-9) or a letter (a-f) once hex-encoded
  kCharacter,   // a text character stays an upper-case letter, a lower-case letter, a digit, or '-'/'_'
};

// Returns a byte different from `original` that keeps what `keep` says, drawn from `random`.
char other_byte(char original, Keep keep, std::mt19937_64& random) {
  const auto byte = static_cast<unsigned char>(original);
  for (;;) {
    const auto candidate = static_cast<unsigned char>(random());
    if (candidate == byte) continue;
    switch (keep) {
      case Keep::kNothing:
        return static_cast<char>(candidate);
      case Keep::kHexNibbles:
        if (((candidate >> 4) > 9) == ((byte >> 4) > 9) && ((candidate & 15) > 9) == ((byte & 15) > 9)) {
          return static_cast<char>(candidate);
        }
        continue;
      case Keep::kCharacter: {
        auto group = [](unsigned char c) {
          if (c >= 'A' && c <= 'Z') return 1;
          if (c >= 'a' && c <= 'z') return 2;
          if (c >= '0' && c <= '9') return 3;
          if (c == '-' || c == '_') return 4;
          return 0;
        };
        if (group(candidate) == group(byte)) return static_cast<char>(candidate);  // 0: outside them, as the original
        continue;
      }
    }
  }
}

// A function under test: the secret-derived value it compares against (`expected`), how a value
// becomes the function's input (`make`), and the call (`refused`: true when it turned the input
// away for not matching, which every measured input must be).
template <class Input>
struct Subject {
  std::string name;
  std::string expected;
  Keep keep;
  std::function<Input(const std::string& value)> make;
  std::function<bool(Input& input)> refused;
};

// Checks that `subject` accepts its expected value and refuses both classes, measures it, prints
// its report line and checks the verdict against `expect`.
template <class Input>
void check_subject(const Subject<Input>& subject, Expect expect, const dudect::Options& options) {
  std::mt19937_64 random(options.seed ^ 0x9e3779b97f4a7c15ULL);
  std::string fixed_value = subject.expected;
  fixed_value.back() = other_byte(fixed_value.back(), subject.keep, random);
  auto random_value = [&] {
    std::string value = subject.expected;
    value.front() = other_byte(value.front(), subject.keep, random);
    return value;
  };

  Input right = subject.make(subject.expected);
  ASSERT_FALSE(subject.refused(right)) << subject.name << ": the expected value is refused";
  Input fixed = subject.make(fixed_value);
  ASSERT_TRUE(subject.refused(fixed)) << subject.name << ": the fixed class is not refused as a mismatch";
  Input drawn = subject.make(random_value());
  ASSERT_TRUE(subject.refused(drawn)) << subject.name << ": the random class is not refused as a mismatch";

  std::vector<std::optional<Input>> inputs(options.chunk);
  auto prepare = [&](std::size_t slot, InputClass input_class) {
    inputs[slot].reset();  // the previous input's memory is freed before the next is made, in both classes
    inputs[slot].emplace(subject.make(input_class == InputClass::kFixed ? fixed_value : random_value()));
  };
  auto run = [&](std::size_t slot) { dudect::keep(subject.refused(*inputs[slot])); };
  const dudect::Verdict verdict = dudect::check(expect, options, prepare, run);

  const dudect::Analysis& shown = verdict.reported();
  const std::string retried = verdict.runs.size() > 1 ? fmt::format(" (second run; the first had max |t|={:.2f})",
                                                                    verdict.runs.front().max_abs_t())
                                                      : std::string();
  if (expect == Expect::kConstantTime) {
    std::cout << fmt::format("B8 constant time {}: measurements={}, max |t|={:.2f} ({} 10){}\n", subject.name,
                             shown.measurements, shown.max_abs_t(), verdict.as_expected() ? "<" : "≥", retried);
  } else {
    std::cout << fmt::format("B8 control {}: max |t|={:.2f} ({}){}\n", subject.name, shown.max_abs_t(),
                             verdict.as_expected() ? "≥ 10, detector works" : "< 10, the detector saw no leak",
                             retried);
  }
  std::cout << "  " << dudect::describe(shown) << "\n";
  EXPECT_TRUE(verdict.as_expected()) << subject.name << ": " << dudect::describe(shown) << " (seed " << run_seed()
                                     << ": WIK_B8_SEED draws the same classes and changed bytes again)";
}

// ---- the subjects -------------------------------------------------------------------------------

constexpr const char* kAppSecret = "f1e2d3c4b5a6978812345678abcdef90";

// A realistic webhook body: one chat message of a few hundred bytes.
std::string webhook_body() {
  return R"({"object":"page","entry":[{"id":"2035268540053170","time":1764370000123,"messaging":[{"sender":)"
         R"({"id":"100015782744074","community":{"id":"1000000000001"}},"recipient":{"id":"2035268540053170"},)"
         R"("timestamp":1764370000011,"message":{"mid":"m_0123456789abcdef","seq":1,"text":"Hello, can someone )"
         R"(reset my password? The link in yesterday's mail has expired and I cannot sign in any more."}}]}]})";
}

// A naive compare that returns at the first difference: what the real code must not do.
[[gnu::noinline]] bool early_exit_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

Subject<std::string> bytes_subject(std::string name, std::string expected,
                                   std::function<bool(std::string_view, std::string_view)> equal) {
  return {.name = std::move(name),
          .expected = expected,
          .keep = Keep::kNothing,
          .make = [](const std::string& value) { return value; },
          .refused = [expected, equal = std::move(equal)](std::string& input) { return !equal(input, expected); }};
}

Subject<std::string> hub_subject(core::HubAlgorithm algorithm) {
  const std::string body = webhook_body();
  const bool sha256 = algorithm == core::HubAlgorithm::kSha256;
  const std::string digest = sha256 ? core::hmac_sha256(kAppSecret, body) : core::hmac_sha1(kAppSecret, body);
  return {.name = sha256 ? "webhook X-Hub-Signature-256" : "webhook X-Hub-Signature (SHA-1)",
          .expected = digest,
          .keep = Keep::kHexNibbles,
          .make = [sha256](const std::string& value) { return (sha256 ? "sha256=" : "sha1=") + core::to_hex(value); },
          .refused =
              [body, sha256, secret = Secret(kAppSecret)](std::string& header) {
                const core::HubSignatureHeaders headers = sha256
                                                              ? core::HubSignatureHeaders{.sha256 = header, .sha1 = {}}
                                                              : core::HubSignatureHeaders{.sha256 = {}, .sha1 = header};
                const auto verified = core::verify_webhook_signature(headers, body, secret, !sha256);
                return !verified.ok() && verified.error().code() == ErrorCode::kBadSignature;
              }};
}

Subject<std::string> signed_request_subject(core::SignatureEncoding encoding) {
  const boost::json::object payload{{"algorithm", "HMAC-SHA256"},
                                    {"issued_at", 1764370000},
                                    {"community_id", "1000000000001"},
                                    {"type", "DEAUTHORIZE"}};
  const std::string payload_segment = core::base64url_encode(boost::json::serialize(payload));
  const bool hex = encoding == core::SignatureEncoding::kHexDigest;
  return {.name = hex ? "signed_request (hex digest)" : "signed_request (raw digest)",
          .expected = core::hmac_sha256(kAppSecret, payload_segment),
          .keep = hex ? Keep::kHexNibbles : Keep::kNothing,
          .make =
              [payload_segment, hex](const std::string& value) {
                return core::base64url_encode(hex ? core::to_hex(value) : value) + "." + payload_segment;
              },
          .refused =
              [secret = Secret(kAppSecret)](std::string& signed_request) {
                const auto verified = core::verify_signed_request(signed_request, secret, 1764370010);
                return !verified.ok() && verified.error().code() == ErrorCode::kBadSignature;
              }};
}

Subject<std::string> appsecret_proof_subject() {
  constexpr std::int64_t kNow = 1764370000;
  const std::string token = "DQVJzY2hhbmdlLW1lLWNvbW11bml0eS10b2tlbi0wMTIzNDU2Nzg5";
  const core::AppsecretProof proof = core::make_appsecret_proof(Secret(kAppSecret), AccessToken(token), kNow);
  return {.name = "appsecret_proof",
          .expected = core::from_hex(proof.proof).value(),
          .keep = Keep::kHexNibbles,
          .make = [](const std::string& value) { return core::to_hex(value); },
          .refused =
              [token, time = proof.time](std::string& received) {
                const auto checked =
                    core::check_appsecret_proof(Secret(kAppSecret), AccessToken(token), received, time, kNow);
                return !checked.ok() && checked.error().code() == ErrorCode::kBadSignature;
              }};
}

// Returns a request as the server would hand it to a route.
http::Request make_request(http_proto::verb method, const std::string& target, std::string body,
                           std::vector<std::pair<std::string, std::string>> headers) {
  http::Request::Message message(method, target, 11);
  for (auto& [name, value] : headers) message.set(name, value);
  message.body() = std::move(body);
  message.prepare_payload();
  auto parsed = http::parse_target(target);
  return http::Request(std::move(message), std::move(parsed).value(), "", {}, "b8");
}

// The webhook callback's handshake, through its route: GET with hub.verify_token.
class HandshakeSubject {
 public:
  HandshakeSubject() {
    spdlog::set_level(spdlog::level::warn);
    auto database = store::SqliteDatabase::open({.path = dir_.path() / "wik.db"});
    store_ = std::move(store::Store::open(std::move(database).value(), core::KeyRing::generate("k1"), clock_)).value();
    ingest_ = std::make_unique<webhooks::WebhookIngest>(
        *store_,
        webhooks::IngestOptions{
            .verify_token = Secret(verify_token_), .app_secrets = {Secret(kAppSecret)}, .store_threads = 1},
        metrics_);
    ingest_->add_routes(router_);
    const std::vector<std::string> path = {"workplace", "webhook"};
    route_ = router_.match(http_proto::verb::get, path).route;
  }

  Subject<http::Request> subject() {
    return {.name = "webhook verify token",
            .expected = verify_token_,
            .keep = Keep::kCharacter,
            .make =
                [](const std::string& value) {
                  return make_request(
                      http_proto::verb::get,
                      "/workplace/webhook?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=" + value, "",
                      {});
                },
            .refused =
                [this](http::Request& request) {
                  const auto answered = testing::run_coroutine(io_, route_->handler(request));
                  return !answered.ok() && answered.error().code() == ErrorCode::kPermissionDenied;
                }};
  }

 private:
  const std::string verify_token_ = core::secure_random_token(24);  // 32 base64url characters
  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  http::MetricsRegistry metrics_;
  std::unique_ptr<webhooks::WebhookIngest> ingest_;
  http::Router router_;
  const http::Route* route_ = nullptr;
  boost::asio::io_context io_;
};

// The kit's CSRF check (install, admin and link pages): Installer::checked_form on a form POST.
class CsrfSubject {
 public:
  CsrfSubject() {
    spdlog::set_level(spdlog::level::warn);
    auto database = store::SqliteDatabase::open({.path = dir_.path() / "wik.db"});
    store_ = std::move(store::Store::open(std::move(database).value(), core::KeyRing::generate("k1"), clock_)).value();
    http_ = std::move(http::Client::create({})).value();
    graph_ = std::make_unique<graph::GraphClient>(
        *http_, graph::GraphOptions{.base_url = "http://127.0.0.1:9"},
        graph::AppCredentials{.app_id = "1", .app_secret = Secret(kAppSecret)}, clock_, random_);
    installer_ = std::make_unique<install::Installer>(
        *store_, *graph_, clock_, install::InstallerOptions{.redirect_url = "https://kit.example/workplace/install"});
  }

  Subject<http::Request> subject() {
    return {.name = "CSRF token (kit forms)",
            .expected = token_,
            .keep = Keep::kCharacter,
            .make =
                [this](const std::string& value) {
                  return make_request(http_proto::verb::post, "/admin/install", "csrf=" + value,
                                      {{"Host", "kit.example"},
                                       {"Content-Type", "application/x-www-form-urlencoded"},
                                       {"Cookie", "__Host-wik_csrf=" + token_},
                                       {"Sec-Fetch-Site", "same-origin"}});
                },
            .refused = [this](http::Request& request) { return !installer_->checked_form(request).has_value(); }};
  }

 private:
  const std::string token_ = core::secure_random_token(32);  // 43 characters, as the kit mints them
  testing::TempDir dir_;
  testing::FakeClock clock_;
  core::SecureRandomSource random_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<http::Client> http_;
  std::unique_ptr<graph::GraphClient> graph_;
  std::unique_ptr<install::Installer> installer_;
};

Subject<std::string> emulator_csrf_subject() {
  const emulator::Session session{
      .id = core::secure_random_token(32), .csrf_token = core::secure_random_token(32), .user_id = {}};
  return {.name = "CSRF token (emulator pages)",
          .expected = session.csrf_token,
          .keep = Keep::kCharacter,
          .make = [](const std::string& value) { return value; },
          .refused = [session](std::string& token) { return !emulator::Sessions::csrf_matches(session, token); }};
}

// The emulator's code exchange with an app secret (POST /oauth/access_token).
class AppSecretSubject {
 public:
  AppSecretSubject() {
    state_ = std::move(emulator::PlatformState::open({}, clock_)).value();
    EXPECT_TRUE(state_
                    ->register_app({.id = "1234567890",
                                    .secret = kAppSecret,
                                    .name = "B8",
                                    .redirect_url = "https://kit.example/workplace/install"})
                    .ok());
  }

  Subject<std::string> subject() {
    return {.name = "app secret (emulator code exchange)",
            .expected = kAppSecret,
            .keep = Keep::kCharacter,
            .make = [](const std::string& value) { return value; },
            .refused =
                [this](std::string& secret) {
                  const auto exchanged = state_->exchange_code("1234567890", secret, "no-such-code",
                                                               "https://kit.example/workplace/install");
                  return !exchanged.ok() && exchanged.error().code() == ErrorCode::kBadSignature;
                }};
  }

 private:
  testing::FakeClock clock_;
  std::unique_ptr<emulator::PlatformState> state_;
};

// ---- the tests ----------------------------------------------------------------------------------

TEST(ConstantTimeTest, ControlEarlyExitCompareIsSeenToLeak) {
  check_subject(bytes_subject("early-exit compare", core::secure_random_bytes(32), early_exit_equal), Expect::kLeak,
                options_for(60000, 16, 1));
}

TEST(ConstantTimeTest, ControlEarlyExitSignatureCheckIsSeenToLeak) {
  // A naive webhook check: the body's HMAC as hex, compared with the header's hex up to the first difference.
  const std::string body = webhook_body();
  const Subject<std::string> naive{.name = "early-exit signature check",
                                   .expected = core::hmac_sha256(kAppSecret, body),
                                   .keep = Keep::kHexNibbles,
                                   .make = [](const std::string& value) { return "sha256=" + core::to_hex(value); },
                                   .refused =
                                       [body](std::string& header) {
                                         return !early_exit_equal(std::string_view(header).substr(7),
                                                                  core::to_hex(core::hmac_sha256(kAppSecret, body)));
                                       }};
  check_subject(naive, Expect::kLeak, options_for(25000, 1, 2));
}

TEST(ConstantTimeTest, ConstantTimeEqual) {
  check_subject(
      bytes_subject("core::constant_time_equal (32 bytes)", core::secure_random_bytes(32), core::constant_time_equal),
      Expect::kConstantTime, options_for(60000, 16, 3));
}

TEST(ConstantTimeTest, ConstantTimeEqualLong) {
  check_subject(
      bytes_subject("core::constant_time_equal (4 KiB)", core::secure_random_bytes(4096), core::constant_time_equal),
      Expect::kConstantTime, options_for(25000, 1, 4));
}

TEST(ConstantTimeTest, WebhookSignatureSha256) {
  check_subject(hub_subject(core::HubAlgorithm::kSha256), Expect::kConstantTime, options_for(25000, 1, 5));
}

TEST(ConstantTimeTest, WebhookSignatureSha1) {
  check_subject(hub_subject(core::HubAlgorithm::kSha1), Expect::kConstantTime, options_for(25000, 1, 6));
}

TEST(ConstantTimeTest, SignedRequestHexDigest) {
  check_subject(signed_request_subject(core::SignatureEncoding::kHexDigest), Expect::kConstantTime,
                options_for(25000, 1, 7));
}

TEST(ConstantTimeTest, SignedRequestRawDigest) {
  check_subject(signed_request_subject(core::SignatureEncoding::kRawDigest), Expect::kConstantTime,
                options_for(25000, 1, 8));
}

TEST(ConstantTimeTest, AppsecretProof) {
  check_subject(appsecret_proof_subject(), Expect::kConstantTime, options_for(25000, 1, 9));
}

TEST(ConstantTimeTest, WebhookVerifyToken) {
  HandshakeSubject handshake;
  check_subject(handshake.subject(), Expect::kConstantTime, options_for(15000, 1, 10));
}

TEST(ConstantTimeTest, KitCsrfToken) {
  CsrfSubject csrf;
  check_subject(csrf.subject(), Expect::kConstantTime, options_for(20000, 1, 11));
}

TEST(ConstantTimeTest, EmulatorCsrfToken) {
  check_subject(emulator_csrf_subject(), Expect::kConstantTime, options_for(60000, 16, 12));
}

TEST(ConstantTimeTest, EmulatorAppSecret) {
  AppSecretSubject app_secret;
  check_subject(app_secret.subject(), Expect::kConstantTime, options_for(25000, 1, 13));
}

}  // namespace
}  // namespace wik
