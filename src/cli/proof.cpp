// wik proof: prints the appsecret_proof and appsecret_time for a token, as the platform's Postman
// pre-request script computed them, so a Graph call can be made by hand.
#include <cstdio>

#include "cli/commands.h"
#include "cli/inputs.h"
#include "core/appsecret_proof.h"
#include "core/clock.h"

namespace wik::cli {
namespace {

struct ProofOptions {
  std::optional<std::filesystem::path> token_file;
  std::optional<std::filesystem::path> secret_file;
  std::optional<std::int64_t> time;
};

int run_proof(const ProofOptions& options) {
  auto token = secret_from_file_or_env(options.token_file, "WIK_ACCESS_TOKEN", "the access token");
  if (!token) return report(token.error(), "proof", 2);
  auto secret = secret_from_file_or_env(options.secret_file, "WIK_APP_SECRET", "the app secret");
  if (!secret) return report(secret.error(), "proof", 2);

  const std::int64_t time = options.time.value_or(core::SystemClock().unix_seconds());
  const core::AppsecretProof proof =
      core::make_appsecret_proof(*secret, AccessToken(std::string(token->expose())), time);
  std::printf("appsecret_proof=%s\nappsecret_time=%s\n", proof.proof.c_str(), proof.time.c_str());
  return 0;
}

}  // namespace

void add_proof_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ProofOptions>();
  CLI::App* command = app.add_subcommand(
      "proof", "Print appsecret_proof and appsecret_time for an access token (token and secret from files or "
               "WIK_ACCESS_TOKEN / WIK_APP_SECRET)");
  command->add_option("--token-file", options->token_file, "File holding the access token")->check(CLI::ExistingFile);
  command->add_option("--secret-file", options->secret_file, "File holding the app secret")->check(CLI::ExistingFile);
  command->add_option("--time", options->time, "Unix time to stamp (default: now)")->check(CLI::NonNegativeNumber);
  command->callback([options, &exit_code] { exit_code = run_proof(*options); });
}

}  // namespace wik::cli
