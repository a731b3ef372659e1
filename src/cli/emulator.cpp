// wik emulator: runs the local Workplace platform (docs/emulator.md) until SIGTERM or SIGINT.
// Once both hosts listen it prints their URLs on standard output, one line each, for people and for
// scripts that start it on port 0; logs go to standard error.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "cli/commands.h"
#include "cli/inputs.h"
#include "emulator/emulator.h"
#include "emulator/state/app_registry.h"
#include "log/logging.h"
#include "log/redacting_sink.h"

namespace wik::cli {
namespace {

constexpr const char* kAppSecretEnv = "WIK_EMULATOR_APP_SECRET";

constexpr const char* kDescription = R"(Run the Workplace emulator: a local, faithful Workplace platform on two HTTP hosts.

Point an integration at it (wik.toml keys shown; any integration has the same two settings):
  Graph API base URL   app.graph_url     = the "graph" URL printed at start (instead of https://graph.workplace.com)
  install dialog base  app.workplace_url = the "web" URL printed at start (instead of https://work.workplace.com)
  plain HTTP           allow it for these loopback URLs only; never for the real platform
The app's redirect and deauthorize URLs, and its webhook callback, are the integration's own
(http://127.0.0.1:... is fine). Sign in at the web URL as any seeded person (no passwords), install
the app from Integrations as "Ada Admin", and chat with its bot. --control-api adds the scripting API
under /_emulator/ on the web host (docs/emulator.md has a curl example for every endpoint).

Prints "wik emulator: graph http://ADDR:PORT" and "wik emulator: web http://ADDR:PORT" once both hosts
listen (port 0 picks free ports), then runs until SIGTERM or Ctrl-C, and saves its state on the way out.)";

struct EmulatorCommandOptions {
  std::string address = "127.0.0.1";
  std::uint16_t graph_port = 8090;
  std::uint16_t web_port = 8091;
  std::filesystem::path state_file = "wik-emulator.json";
  bool control_api = false;
  std::vector<std::filesystem::path> app_manifests;
  std::vector<std::filesystem::path> app_secret_files;
  std::size_t io_threads = 2;
};

// Returns the apps named on the command line: each --app with the --app-secret-file at the same
// position, or, for a single app without one, the secret in WIK_EMULATOR_APP_SECRET.
Result<std::vector<emulator::App>> load_apps(const EmulatorCommandOptions& options) {
  const std::size_t apps = options.app_manifests.size();
  const std::size_t secrets = options.app_secret_files.size();
  const bool one_from_env = apps == 1 && secrets == 0 && std::getenv(kAppSecretEnv) != nullptr;
  if (secrets != apps && !one_from_env) {
    return Error(ErrorCode::kConfig, "give one --app-secret-file per --app (or, for one app, set " +
                                         std::string(kAppSecretEnv) + ")");
  }
  std::vector<emulator::App> loaded;
  for (std::size_t i = 0; i < apps; ++i) {
    auto secret = one_from_env ? Result<std::string>(std::string(std::getenv(kAppSecretEnv)))
                               : emulator::read_app_secret(options.app_secret_files[i]);
    if (!secret) return secret.error();
    if (secret->empty()) return Error(ErrorCode::kConfig, std::string(kAppSecretEnv) + " is empty");
    log::register_secret_value(Secret(*secret));
    auto app = emulator::load_app(options.app_manifests[i], std::move(secret).value());
    if (!app) return app.error();
    loaded.push_back(std::move(app).value());
  }
  return loaded;
}

int run_emulator(const EmulatorCommandOptions& options) {
  log::init_logging(LogOptions{});
  auto apps = load_apps(options);
  if (!apps) return report(apps.error(), "emulator", 2);

  // Catch the signals from before the hosts start: one arriving during start-up stops the emulator
  // as soon as it is up instead of killing it half-started.
  boost::asio::io_context signals_io(1);
  boost::asio::signal_set signals(signals_io, SIGTERM, SIGINT);

  emulator::EmulatorOptions emulator_options;
  emulator_options.address = options.address;
  emulator_options.graph_port = options.graph_port;
  emulator_options.web_port = options.web_port;
  emulator_options.state_file = options.state_file;
  emulator_options.control_api = options.control_api;
  emulator_options.apps = std::move(apps).value();
  emulator_options.io_threads = options.io_threads;
  auto running = emulator::Emulator::start(std::move(emulator_options));
  if (!running) return report(running.error(), "emulator", 2);

  std::printf("wik emulator: graph %s\n", (*running)->graph_url().c_str());
  std::printf("wik emulator: web %s\n", (*running)->web_url().c_str());
  std::fflush(stdout);

  signals.async_wait([](const boost::system::error_code&, int) {});
  signals_io.run();
  (*running)->stop();
  return 0;
}

}  // namespace

void add_emulator_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<EmulatorCommandOptions>();
  CLI::App* command = app.add_subcommand("emulator", kDescription);
  command->add_option("--address", options->address, "Address both hosts listen on (default 127.0.0.1)");
  command->add_option("--graph-port", options->graph_port, "Port of the Graph host (default 8090; 0: any free port)");
  command->add_option("--web-port", options->web_port, "Port of the web host (default 8091; 0: any free port)");
  command->add_option("--state-file", options->state_file,
                      "Where the platform's state is kept across restarts (default ./wik-emulator.json)");
  command->add_flag("--control-api", options->control_api, "Serve the /_emulator/ control API (tests and demos)");
  command->add_option("--app", options->app_manifests, "An app manifest (app.toml) to register; repeatable")
      ->check(CLI::ExistingFile);
  command->add_option("--app-secret-file", options->app_secret_files,
                      "The secret of the --app at the same position; repeatable (one app: or $WIK_EMULATOR_APP_SECRET)")
      ->check(CLI::ExistingFile);
  command->add_option("--io-threads", options->io_threads, "I/O threads per host (default 2)")
      ->check(CLI::Range(1, 64));
  command->callback([options, &exit_code] { exit_code = run_emulator(*options); });
}

}  // namespace wik::cli
