// wik purge: removes one community now, as a deauthorization would but without waiting for the
// purge worker: revokes its install (forgetting the token), requests its purge job due now and runs
// it to the end, printing the rows deleted per table. Refuses without --yes, saying what it would do.
#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "cli/inputs.h"
#include "cli/operator.h"

namespace wik::cli {
namespace {

struct PurgeOptions {
  std::string community_id;
  bool yes = false;
};

int run_purge(const GlobalOptions& global, const PurgeOptions& options) {
  auto opened = open_operator_store(global);
  if (!opened) return report(opened.error(), "purge", 2);
  auto community = opened->store->community(options.community_id);
  if (!community) return report(community.error(), "purge", 1);
  if (!options.yes) {
    std::fprintf(stderr,
                 "wik: purge: would revoke the install of community %s and delete every row wik and the app keep "
                 "for it (its data key too, so nothing sealed for it can be opened again); run again with --yes\n",
                 options.community_id.c_str());
    return 1;
  }

  auto uninstalled = community->uninstall("wik purge", std::chrono::system_clock::now());
  if (!uninstalled) return report(uninstalled.error(), "purge", 2);
  std::printf("%s\n", uninstalled->revoked ? "install revoked" : "no active install to revoke");
  auto job = opened->store->run_purge_job(uninstalled->purge.id);
  if (!job) return report(job.error(), "purge", 2);
  for (const auto& [table, rows] : job->rows_deleted) {
    std::printf("%-24s %lld row(s) deleted\n", table.c_str(), static_cast<long long>(rows));
  }
  std::printf("purge job %lld done\n", static_cast<long long>(job->id));
  return 0;
}

}  // namespace

void add_purge_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto options = std::make_shared<PurgeOptions>();
  CLI::App* command = app.add_subcommand(
      "purge", "Revoke a community's install and delete all of its data now (asks for --yes)");
  command->add_option("--community", options->community_id, "The community id")->required();
  command->add_flag("--yes", options->yes, "Really revoke and delete");
  command->callback([&global, options, &exit_code] { exit_code = run_purge(global, *options); });
}

}  // namespace wik::cli
