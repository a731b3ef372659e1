// The wik command line: one function per command that adds its CLI11 subcommand to the app.
// Each command reads secrets only from files or the environment, never from its arguments, prints
// its result on standard output and its diagnostics on standard error, and reports failure through
// the exit status it stores in `exit_code` (0 success, 1 the input was rejected, 2 a setup problem).
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>

namespace wik::cli {

struct GlobalOptions {
  std::optional<std::filesystem::path> config_file;  // --config; else WIK_CONFIG or ./wik.toml
};

void add_proof_command(CLI::App& app, int& exit_code);
void add_signed_request_command(CLI::App& app, int& exit_code);
void add_keys_command(CLI::App& app, int& exit_code);
void add_doctor_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_migrate_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_manifest_command(CLI::App& app, int& exit_code);
void add_serve_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_emulator_command(CLI::App& app, int& exit_code);
void add_installs_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_purge_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_webhooks_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_api_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_subscriptions_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_demo_command(CLI::App& app, int& exit_code);

}  // namespace wik::cli
