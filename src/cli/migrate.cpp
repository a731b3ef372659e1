// wik migrate: applies the kit's pending schema migrations to the configured database (SQLite or
// PostgreSQL) and prints the version reached. A failed migration leaves the schema at the last
// version that applied whole; running it again is harmless.
#include <cstdio>

#include "app/database.h"
#include "cli/commands.h"
#include "cli/inputs.h"
#include "config/config.h"
#include "core/clock.h"
#include "store/migrations.h"

namespace wik::cli {
namespace {

int run_migrate(const GlobalOptions& global) {
  const config::ProcessEnvironment environment;
  auto config = config::load_config(global.config_file ? global.config_file : config::default_config_path(environment),
                                    environment);
  if (!config) return report(config.error(), "migrate", 2);
  auto database = app::open_database(*config);
  if (!database) return report(database.error(), "migrate", 2);

  const core::SystemClock clock;
  auto before = store::schema_version(**database);
  if (!before) return report(before.error(), "migrate", 2);
  auto after = store::migrate(**database, store::kit_migrations((*database)->dialect()), clock);
  if (!after) return report(after.error(), "migrate", 1);
  std::printf("schema at version %lld (was %lld)\n", static_cast<long long>(*after), static_cast<long long>(*before));
  return 0;
}

}  // namespace

void add_migrate_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  CLI::App* command = app.add_subcommand("migrate", "Apply pending schema migrations to the configured database");
  command->callback([&global, &exit_code] { exit_code = run_migrate(global); });
}

}  // namespace wik::cli
