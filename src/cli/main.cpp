// wik: the Workplace Integration Kit's command line.
#include <cstdio>
#include <exception>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"wik: the Workplace Integration Kit (build, run and operate a Workplace integration)", "wik"};
  app.set_version_flag("--version", std::string(WIK_VERSION));
  app.require_subcommand(1);

  wik::cli::GlobalOptions global;
  app.add_option("--config", global.config_file, "Configuration file (default: $WIK_CONFIG, else ./wik.toml)")
      ->check(CLI::ExistingFile);

  int exit_code = 0;
  wik::cli::add_proof_command(app, exit_code);
  wik::cli::add_signed_request_command(app, exit_code);
  wik::cli::add_keys_command(app, exit_code);
  wik::cli::add_doctor_command(app, global, exit_code);
  wik::cli::add_migrate_command(app, global, exit_code);
  wik::cli::add_manifest_command(app, exit_code);
  wik::cli::add_emulator_command(app, exit_code);
  wik::cli::add_serve_command(app, global, exit_code);
  wik::cli::add_installs_command(app, global, exit_code);
  wik::cli::add_purge_command(app, global, exit_code);
  wik::cli::add_webhooks_command(app, global, exit_code);
  wik::cli::add_api_command(app, global, exit_code);
  wik::cli::add_subscriptions_command(app, global, exit_code);
  wik::cli::add_demo_command(app, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wik: %s\n", e.what());
    return 2;
  }
  return exit_code;
}
