// wik installs: lists the app's installations (community, name, state, last change; never a token)
// and the purge jobs not yet done with their deadlines, as a table or, with --json, as one JSON object.
#include <cstdio>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/inputs.h"
#include "cli/operator.h"
#include "core/printable.h"

namespace wik::cli {
namespace {

struct InstallsOptions {
  bool json = false;
};

const char* state_text(store::InstallState state) {
  return state == store::InstallState::kActive ? "active" : "revoked";
}

const char* state_text(store::PurgeState state) {
  return state == store::PurgeState::kPending ? "pending" : state == store::PurgeState::kRunning ? "running" : "done";
}

void print_json(const std::vector<store::InstallationSummary>& installs, const std::vector<store::PurgeJob>& jobs) {
  boost::json::array install_array;
  for (const store::InstallationSummary& install : installs) {
    install_array.push_back({{"community_id", install.community_id},
                             {"name", install.community_name},
                             {"state", state_text(install.state)},
                             {"updated_at", utc_text(install.updated_at)}});
  }
  boost::json::array job_array;
  for (const store::PurgeJob& job : jobs) {
    job_array.push_back({{"id", job.id},
                         {"community_id", job.community_id.value_or("")},
                         {"state", state_text(job.state)},
                         {"requested_at", utc_text(job.requested_at)},
                         {"deadline", utc_text(job.deadline)}});
  }
  const boost::json::object all{{"installations", std::move(install_array)}, {"purge_jobs", std::move(job_array)}};
  std::printf("%s\n", boost::json::serialize(all).c_str());
}

void print_table(const std::vector<store::InstallationSummary>& installs, const std::vector<store::PurgeJob>& jobs) {
  std::printf("%-20s %-32s %-8s %s\n", "COMMUNITY", "NAME", "STATE", "UPDATED");
  for (const store::InstallationSummary& install : installs) {
    std::printf("%-20s %-32s %-8s %s\n", install.community_id.c_str(),
                core::printable(install.community_name, 32).c_str(), state_text(install.state),
                utc_text(install.updated_at).c_str());
  }
  std::printf("%zu installation(s)\n\n%-8s %-20s %-8s %s\n", installs.size(), "PURGE", "COMMUNITY", "STATE",
              "DEADLINE");
  for (const store::PurgeJob& job : jobs) {
    std::printf("%-8lld %-20s %-8s %s\n", static_cast<long long>(job.id), job.community_id.value_or("").c_str(),
                state_text(job.state), utc_text(job.deadline).c_str());
  }
  std::printf("%zu purge job(s) not done\n", jobs.size());
}

int run_installs(const GlobalOptions& global, const InstallsOptions& options) {
  auto opened = open_operator_store(global);
  if (!opened) return report(opened.error(), "installs", 2);
  auto installs = opened->store->list_installations();
  if (!installs) return report(installs.error(), "installs", 2);
  auto jobs = opened->store->list_purge_jobs();
  if (!jobs) return report(jobs.error(), "installs", 2);
  std::erase_if(*jobs, [](const store::PurgeJob& job) { return job.state == store::PurgeState::kDone; });
  if (options.json) {
    print_json(*installs, *jobs);
  } else {
    print_table(*installs, *jobs);
  }
  return 0;
}

}  // namespace

void add_installs_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto options = std::make_shared<InstallsOptions>();
  CLI::App* command =
      app.add_subcommand("installs", "List the app's installations and the purge jobs not yet done (never a token)");
  command->add_flag("--json", options->json, "Print one JSON object instead of tables");
  command->callback([&global, options, &exit_code] { exit_code = run_installs(global, *options); });
}

}  // namespace wik::cli
