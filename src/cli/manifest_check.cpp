// wik manifest check app.toml: the platform's review rules applied to an app manifest, every
// problem printed at once with its field; exit status 1 when there is an error.
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/inputs.h"
#include "manifest/manifest.h"
#include "manifest/manifest_check.h"

namespace wik::cli {
namespace {

struct ManifestCheckOptions {
  std::filesystem::path file = "app.toml";
  std::string withheld = "seed";
};

int run_manifest_check(const ManifestCheckOptions& options) {
  auto manifest = manifest::load_manifest(options.file);
  if (!manifest) return report(manifest.error(), "manifest check", 1);

  const auto rule = options.withheld == "current" ? manifest::WithheldRule::kCurrent : manifest::WithheldRule::kSeedEra;
  const auto findings = manifest::check_manifest(*manifest, {.withheld = rule});
  std::size_t errors = 0;
  for (const auto& finding : findings) {
    errors += finding.severity == manifest::Severity::kError ? 1 : 0;
    std::printf("%s\n", manifest::to_line(finding).c_str());
  }
  std::printf("%s: %zu error(s), %zu warning(s)\n", options.file.string().c_str(), errors, findings.size() - errors);
  return errors == 0 ? 0 : 1;
}

}  // namespace

void add_manifest_command(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand("manifest", "Work with the app manifest (app.toml)");
  command->require_subcommand(1);

  auto options = std::make_shared<ManifestCheckOptions>();
  CLI::App* check = command->add_subcommand(
      "check", "Check app.toml against the platform's review rules; prints every problem, exits 1 on errors");
  check->add_option("manifest", options->file, "The manifest file (default: ./app.toml)");
  check->add_option("--withheld", options->withheld,
                    "Permissions withheld from third-party apps: seed (the 2017 rule, default) or current")
      ->check(CLI::IsMember({"seed", "current"}));
  check->callback([options, &exit_code] { exit_code = run_manifest_check(*options); });
}

}  // namespace wik::cli
