// wik signed-request verify | create: check a signed_request captured from the platform (a
// deauthorization or account-linking POST), or make one for tests and operators.
#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/pct_string_view.hpp>

#include <cstdio>

#include "cli/commands.h"
#include "cli/inputs.h"
#include "core/clock.h"
#include "core/signed_request.h"

namespace wik::cli {
namespace {

constexpr std::size_t kMaxInput = 64 * 1024;

struct VerifyOptions {
  std::optional<std::filesystem::path> secret_file;
  std::optional<std::int64_t> max_age_seconds;
  std::optional<std::int64_t> now;
};

struct CreateOptions {
  std::optional<std::filesystem::path> secret_file;
  std::string encoding = "hex";
  std::optional<std::int64_t> now;
};

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

// Accepts the bare signed_request or the form body it arrived in ("signed_request=...&...").
Result<std::string> signed_request_from(std::string_view input) {
  input = trim(input);
  constexpr std::string_view kField = "signed_request=";
  if (!input.starts_with(kField)) return std::string(input);
  input.remove_prefix(kField.size());
  input = input.substr(0, input.find('&'));
  auto decoded = boost::urls::make_pct_string_view(input);
  if (!decoded) return Error(ErrorCode::kMalformed, "the form body has invalid percent-encoding");
  boost::urls::encoding_opts form_encoding;
  form_encoding.space_as_plus = true;
  return decoded->decode(form_encoding);
}

int run_verify(const VerifyOptions& options) {
  auto secret = secret_from_file_or_env(options.secret_file, "WIK_APP_SECRET", "the app secret");
  if (!secret) return report(secret.error(), "signed-request verify", 2);
  auto input = read_standard_input(kMaxInput);
  if (!input) return report(input.error(), "signed-request verify", 1);
  auto request = signed_request_from(*input);
  if (!request) return report(request.error(), "signed-request verify", 1);

  core::SignedRequestPolicy policy;
  if (options.max_age_seconds) policy.max_age = std::chrono::seconds(*options.max_age_seconds);
  const std::int64_t now = options.now.value_or(core::SystemClock().unix_seconds());
  auto verified = core::verify_signed_request(*request, *secret, now, policy);
  if (!verified) return report(verified.error(), "signed_request rejected", 1);

  std::printf("%s\n", verified->payload_json.c_str());
  std::fprintf(stderr, "wik: signature verified (%s digest form)\n",
               verified->encoding == core::SignatureEncoding::kHexDigest ? "hex" : "raw");
  return 0;
}

int run_create(const CreateOptions& options) {
  auto secret = secret_from_file_or_env(options.secret_file, "WIK_APP_SECRET", "the app secret");
  if (!secret) return report(secret.error(), "signed-request create", 2);
  auto input = read_standard_input(kMaxInput);
  if (!input) return report(input.error(), "signed-request create", 1);

  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(*input, ec);
  if (ec || !parsed.is_object()) {
    return report(Error(ErrorCode::kMalformed, "standard input is not a JSON object"), "signed-request create", 1);
  }
  boost::json::object& payload = parsed.as_object();
  if (!payload.contains("algorithm")) payload["algorithm"] = "HMAC-SHA256";
  if (!payload.contains("issued_at")) payload["issued_at"] = options.now.value_or(core::SystemClock().unix_seconds());

  const auto encoding = options.encoding == "raw" ? core::SignatureEncoding::kRawDigest : core::SignatureEncoding::kHexDigest;
  std::printf("%s\n", core::create_signed_request(payload, *secret, encoding).c_str());
  return 0;
}

}  // namespace

void add_signed_request_command(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand("signed-request", "Verify or create a signed_request (PROTOCOL.md section 5)");
  command->require_subcommand(1);

  auto verify = std::make_shared<VerifyOptions>();
  CLI::App* verify_command = command->add_subcommand(
      "verify", "Read a signed_request (or its form body) on standard input, print its payload JSON if it verifies");
  verify_command->add_option("--secret-file", verify->secret_file, "File holding the app secret (else WIK_APP_SECRET)")
      ->check(CLI::ExistingFile);
  verify_command->add_option("--max-age", verify->max_age_seconds, "Reject an issued_at older than this many seconds")
      ->check(CLI::PositiveNumber);
  verify_command->add_option("--now", verify->now, "Unix time to check freshness against (default: now)")
      ->check(CLI::NonNegativeNumber);
  verify_command->callback([verify, &exit_code] { exit_code = run_verify(*verify); });

  auto create = std::make_shared<CreateOptions>();
  CLI::App* create_command = command->add_subcommand(
      "create", "Read a JSON payload on standard input and print it as a signed_request (adds algorithm and issued_at)");
  create_command->add_option("--secret-file", create->secret_file, "File holding the app secret (else WIK_APP_SECRET)")
      ->check(CLI::ExistingFile);
  create_command->add_option("--encoding", create->encoding, "Signature form: hex (the platform's, default) or raw")
      ->check(CLI::IsMember({"hex", "raw"}));
  create_command->add_option("--now", create->now, "Unix time for issued_at (default: now)")->check(CLI::NonNegativeNumber);
  create_command->callback([create, &exit_code] { exit_code = run_create(*create); });
}

}  // namespace wik::cli
