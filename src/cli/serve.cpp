// wik serve: runs the integration's platform duties from the configuration — the install flows,
// the deauthorize callback with purges, the webhook callback with its durable inbox and dispatcher,
// and /healthz, /readyz, /metrics — until SIGTERM or SIGINT. Integrations with their own handlers
// build the same server with wik::App (docs/guide.md); this command runs it with none, storing and
// completing events, for operators and for trying the platform flows end to end.
#include <wik/app.h>

#include "cli/commands.h"
#include "cli/inputs.h"

namespace wik::cli {
namespace {

int run_serve(const GlobalOptions& global) {
  auto config = load_config(global.config_file);
  if (!config) return report(config.error(), "serve", 2);
  App app(*config);
  if (auto served = app.run(); !served) return report(served.error(), "serve", 2);
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "serve", "Serve the install flows, the deauthorize and webhook callbacks and health endpoints until SIGTERM");
  command->callback([&global, &exit_code] { exit_code = run_serve(global); });
}

}  // namespace wik::cli
