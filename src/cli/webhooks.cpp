// wik webhooks replay | stats: puts a community's dead letters back into the inbox for the
// dispatcher to handle again (optionally only those that failed since a time), and shows each
// community's webhook backlog: events waiting and dead letters.
#include <chrono>
#include <cstdio>
#include <optional>

#include "cli/commands.h"
#include "cli/inputs.h"
#include "cli/operator.h"

namespace wik::cli {
namespace {

struct ReplayOptions {
  std::string community_id;
  bool dead = false;
  std::optional<std::int64_t> since;  // Unix seconds
};

int run_replay(const GlobalOptions& global, const ReplayOptions& options) {
  if (!options.dead) {
    return report(Error(ErrorCode::kInvalidArgument, "only dead letters can be replayed: add --dead"),
                  "webhooks replay", 1);
  }
  auto opened = open_operator_store(global);
  if (!opened) return report(opened.error(), "webhooks replay", 2);
  auto community = opened->store->community(options.community_id);
  if (!community) return report(community.error(), "webhooks replay", 1);
  auto letters = community->dead_letters();
  if (!letters) return report(letters.error(), "webhooks replay", 2);

  const store::TimePoint since{std::chrono::seconds(options.since.value_or(0))};
  std::int64_t replayed = 0;
  for (const store::DeadLetter& letter : *letters) {
    if (letter.failed_at < since) continue;
    auto queued = community->replay_dead_letter(letter.id);
    if (!queued) return report(queued.error(), "webhooks replay", 2);
    ++replayed;
  }
  std::printf("re-queued %lld of %zu dead letter(s) of community %s\n", static_cast<long long>(replayed),
              letters->size(), options.community_id.c_str());
  return 0;
}

int run_stats(const GlobalOptions& global) {
  auto opened = open_operator_store(global);
  if (!opened) return report(opened.error(), "webhooks stats", 2);
  auto counts = opened->store->inbox_counts();
  if (!counts) return report(counts.error(), "webhooks stats", 2);
  std::printf("%-20s %10s %12s\n", "COMMUNITY", "PENDING", "DEAD LETTERS");
  for (const store::InboxCounts& community : *counts) {
    std::printf("%-20s %10lld %12lld\n", community.community_id.c_str(), static_cast<long long>(community.pending),
                static_cast<long long>(community.dead_letters));
  }
  return 0;
}

}  // namespace

void add_webhooks_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  CLI::App* command = app.add_subcommand("webhooks", "Inspect the webhook inbox and replay dead letters");
  command->require_subcommand(1);

  auto replay = std::make_shared<ReplayOptions>();
  CLI::App* replay_command =
      command->add_subcommand("replay", "Put a community's dead letters back into the inbox to be handled again");
  replay_command->add_flag("--dead", replay->dead, "Replay dead letters (the only kind there is)");
  replay_command->add_option("--community", replay->community_id, "The community id")->required();
  replay_command->add_option("--since", replay->since, "Only dead letters that failed at or after this Unix time")
      ->check(CLI::NonNegativeNumber);
  replay_command->callback([&global, replay, &exit_code] { exit_code = run_replay(global, *replay); });

  CLI::App* stats_command =
      command->add_subcommand("stats", "Show each community's pending webhook events and dead letters");
  stats_command->callback([&global, &exit_code] { exit_code = run_stats(global); });
}

}  // namespace wik::cli
