#include "log/logging.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "log/json_lines_formatter.h"
#include "log/redacting_sink.h"

namespace wik::log {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::SizeIs;

constexpr std::string_view kAccessToken = "EAAGm0PX4ZCpsBAaccess123";
constexpr std::string_view kAppSecret = "0123456789abcdef-app-secret";  // registered, logged bare
constexpr std::string_view kProof = "8f4e2c0b9a7d6e5f4c3b2a1908f7e6d5";
constexpr std::string_view kBearer = "EAAGbearer987token";
constexpr std::string_view kBodyToken = "EAAGbody456token";
constexpr std::string_view kTimestampRegex = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z";

class LogTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { register_secret_value(Secret(std::string(kAppSecret))); }

  std::shared_ptr<spdlog::logger> make_test_logger(LogFormat format, LogLevel level = LogLevel::kInfo) {
    return make_logger("wik", LogOptions{level, format}, std::make_shared<spdlog::sinks::ostream_sink_mt>(out_));
  }

  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) result.push_back(line);
    return result;
  }

  std::ostringstream out_;
};

// Logs what a careless caller might: a signed Graph request, the app secret, an Authorization
// header and a token response body.
void log_request(spdlog::logger& logger) {
  logger.info(
      "GET https://graph.workplace.com/v3.2/community?access_token={}&appsecret_proof={}&appsecret_time=1700000000 "
      "app secret {} Authorization: Bearer {} body {{\"access_token\":\"{}\",\"token_type\":\"bearer\"}}",
      kAccessToken, kProof, kAppSecret, kBearer, kBodyToken);
}

void expect_no_secret(const std::string& output) {
  for (const std::string_view secret : {kAccessToken, kAppSecret, kProof, kBearer, kBodyToken}) {
    EXPECT_THAT(output, Not(HasSubstr(std::string(secret))));
  }
  EXPECT_THAT(output, HasSubstr("[redacted]"));
}

TEST_F(LogTest, TextLinesCarryNoSecret) {
  log_request(*make_test_logger(LogFormat::kText));

  expect_no_secret(out_.str());
  ASSERT_THAT(lines(), SizeIs(1));
  EXPECT_THAT(lines()[0], MatchesRegex(std::string(kTimestampRegex) + " info wik: GET .*"));
  EXPECT_THAT(out_.str(), HasSubstr("?access_token=[redacted]&appsecret_proof=[redacted]&appsecret_time=1700000000 "
                                    "app secret [redacted] Authorization: Bearer [redacted] "
                                    R"(body {"access_token":"[redacted]","token_type":"bearer"})"));
}

TEST_F(LogTest, JsonLinesCarryNoSecretAndParse) {
  auto logger = make_test_logger(LogFormat::kJson);
  log_request(*logger);
  logger->warn("second line with \"quotes\", a backslash \\ and a\nnewline");

  expect_no_secret(out_.str());
  const std::vector<std::string> written = lines();
  ASSERT_THAT(written, SizeIs(2));
  const boost::json::object first = boost::json::parse(written[0]).as_object();
  EXPECT_EQ(first.size(), 4u);
  EXPECT_THAT(std::string(first.at("time").as_string()), MatchesRegex(std::string(kTimestampRegex)));
  EXPECT_EQ(first.at("level").as_string(), "info");
  EXPECT_EQ(first.at("logger").as_string(), "wik");
  EXPECT_THAT(std::string(first.at("msg").as_string()),
              HasSubstr(R"(body {"access_token":"[redacted]","token_type":"bearer"})"));
  const boost::json::object second = boost::json::parse(written[1]).as_object();
  EXPECT_EQ(second.at("level").as_string(), "warning");
  EXPECT_EQ(second.at("msg").as_string(), "second line with \"quotes\", a backslash \\ and a\nnewline");
}

TEST_F(LogTest, FiltersByLevel) {
  auto logger = make_test_logger(LogFormat::kText, LogLevel::kWarn);
  logger->info("not written");
  logger->warn("written");
  logger->error("written too");
  EXPECT_THAT(lines(), SizeIs(2));
  EXPECT_THAT(out_.str(), Not(HasSubstr("not written")));

  auto silent = make_test_logger(LogFormat::kText, LogLevel::kOff);
  silent->critical("never");
  EXPECT_THAT(out_.str(), Not(HasSubstr("never")));

  auto chatty = make_test_logger(LogFormat::kText, LogLevel::kTrace);
  chatty->trace("traced");
  EXPECT_THAT(out_.str(), HasSubstr("trace wik: traced"));
}

TEST_F(LogTest, SecretsFormatRedactedThroughFmtAndSpdlog) {
  const Secret secret("an-app-secret-value");
  const AccessToken token("EAAGunregistered-token");
  EXPECT_EQ(fmt::format("{}", secret), "[redacted]");
  EXPECT_EQ(fmt::format("{}", token), "[redacted]");

  const auto previous = spdlog::default_logger();
  spdlog::set_default_logger(make_test_logger(LogFormat::kText));
  spdlog::info("token {} secret {}", token, secret);
  spdlog::set_default_logger(previous);
  EXPECT_THAT(out_.str(), HasSubstr("token [redacted] secret [redacted]"));
}

TEST_F(LogTest, ScrubsRegisteredValuesWholeAndIgnoresShortOnes) {
  register_secret_value(Secret("short7!"));
  register_secret_value(Secret("abcdefgh"));
  register_secret_value(Secret("abcdefgh12345678"));
  make_test_logger(LogFormat::kText)->info("values: short7! abcdefgh12345678 abcdefgh");
  EXPECT_THAT(out_.str(), HasSubstr("values: short7! [redacted] [redacted]"));
}

TEST_F(LogTest, ScrubsTheSecretsOfALoadedConfiguration) {
  Config config;
  config.app.secret = Secret("config-app-secret-1");
  config.store.postgres_url = Secret("postgresql://wik:pw-in-url@db/wik");
  config.keys.ring = Secret("key k1 ring-material-abc");
  register_config_secrets(config);
  make_test_logger(LogFormat::kText)
      ->error("connect postgresql://wik:pw-in-url@db/wik failed; secret config-app-secret-1; ring key k1 ring-material-abc");
  EXPECT_THAT(out_.str(), HasSubstr("connect [redacted] failed; secret [redacted]; ring [redacted]"));
}

TEST_F(LogTest, InitLoggingInstallsTheRedactingDefaultLoggerOnStandardError) {
  const auto previous = spdlog::default_logger();
  ::testing::internal::CaptureStderr();
  init_logging(LogOptions{LogLevel::kDebug, LogFormat::kJson});
  spdlog::debug("callback?hub.verify_token=verify-me-123&hub.challenge=42");
  const std::string written = ::testing::internal::GetCapturedStderr();
  spdlog::set_default_logger(previous);

  const boost::json::object line = boost::json::parse(written).as_object();
  EXPECT_EQ(line.at("logger").as_string(), "wik");
  EXPECT_EQ(line.at("level").as_string(), "debug");
  EXPECT_EQ(line.at("msg").as_string(), "callback?hub.verify_token=[redacted]&hub.challenge=42");
}

TEST(JsonLinesFormatterTest, EscapesEveryStringAndReplacesInvalidUtf8) {
  using namespace std::chrono;
  const system_clock::time_point time = sys_days(year(2026) / 11 / 29) + 3h + 4min + 5s + 123ms;
  const std::string payload = std::string("q\" b\\ n\n t\t r\r bell\x07 del\x7f nul") + '\0' +
                              " caf\xC3\xA9 \xF0\x9F\x99\x82 bad\xFF\xC0\xAF\xED\xA0\x80\xE2\x82 end";
  const spdlog::details::log_msg msg(time, spdlog::source_loc{}, "wik.test", spdlog::level::err, payload);
  spdlog::memory_buf_t buffer;
  JsonLinesFormatter().format(msg, buffer);
  const std::string line(buffer.data(), buffer.size());

  std::string replaced;  // each of the 8 bytes that are not well-formed UTF-8 becomes U+FFFD
  for (int i = 0; i < 8; ++i) replaced += "\xEF\xBF\xBD";
  EXPECT_EQ(line, R"({"time":"2026-11-29T03:04:05.123Z","level":"error","logger":"wik.test",)"
                  R"("msg":"q\" b\\ n\n t\t r\r bell\u0007 del\u007f nul\u0000 caf)"
                  "\xC3\xA9 \xF0\x9F\x99\x82 bad" + replaced + " end\"}\n");
  const boost::json::value parsed = boost::json::parse(line);
  EXPECT_EQ(parsed.at("msg").as_string(), std::string("q\" b\\ n\n t\t r\r bell\x07 del\x7f nul") + '\0' +
                                               " caf\xC3\xA9 \xF0\x9F\x99\x82 bad" + replaced + " end");
}

}  // namespace
}  // namespace wik::log
