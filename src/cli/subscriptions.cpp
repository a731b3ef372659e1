// wik subscriptions list | sync: shows the app's webhook subscriptions, and makes them match the
// topics and fields of the manifest's [webhooks] table (PROTOCOL.md §7; one set per app, not per
// community). `sync` prints the changes and makes them only with --yes; the platform verifies the
// callback before it accepts a change, so `wik serve` must be reachable at the callback URL then.
// Calls are made as the app (app.id and app.secret); no secret, the verify token included, is
// ever printed. A refusal by the platform exits 1, a missing setting or unreadable manifest 2.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/app_graph.h"
#include "cli/commands.h"
#include "cli/inputs.h"
#include "config/config.h"
#include "graph/graph_client.h"
#include "graph/subscriptions.h"
#include "manifest/manifest.h"

namespace wik::cli {
namespace {

namespace asio = boost::asio;
using graph::SubscriptionChange;

// Where `wik serve` receives webhooks below server.public_url (webhooks::IngestOptions::path).
constexpr std::string_view kWebhookPath = "/workplace/webhook";

struct SyncOptions {
  std::filesystem::path manifest = "app.toml";
  std::optional<std::string> callback_url;
  bool yes = false;
};

std::string joined(const std::vector<std::string>& fields) { return fmt::format("{}", fmt::join(fields, ", ")); }

asio::awaitable<int> show_subscriptions(graph::GraphClient* graph) {
  const auto listed = co_await graph::list_subscriptions(*graph);
  if (!listed) co_return report(listed.error(), "subscriptions list", 1);
  if (listed->empty()) {
    std::printf("the app has no webhook subscriptions\n");
    co_return 0;
  }
  std::printf("%-20s %-44s %s\n", "OBJECT", "FIELDS", "CALLBACK");
  for (const graph::AppSubscription& subscription : *listed) {
    std::printf("%-20s %-44s %s%s\n", subscription.object.c_str(), joined(subscription.fields).c_str(),
                subscription.callback_url.c_str(), subscription.active ? "" : " (inactive)");
  }
  co_return 0;
}

void print_change(const SubscriptionChange& change) {
  const char* object = change.object.c_str();
  switch (change.kind) {
    case SubscriptionChange::Kind::kAdd:
      std::printf("+ %-20s %s\n", object, joined(change.fields_after).c_str());
      return;
    case SubscriptionChange::Kind::kRemove:
      std::printf("- %-20s %s\n", object, joined(change.fields_before).c_str());
      return;
    case SubscriptionChange::Kind::kUpdate:
      if (change.fields_before != change.fields_after) {
        std::printf("~ %-20s %s -> %s\n", object, joined(change.fields_before).c_str(),
                    joined(change.fields_after).c_str());
        object = "";
      }
      if (change.callback_before != change.callback_after) {
        std::printf("~ %-20s callback %s -> %s\n", object, change.callback_before.c_str(),
                    change.callback_after.c_str());
      }
      return;
  }
}

asio::awaitable<int> sync_with_manifest(graph::GraphClient* graph, std::string callback_url, Secret verify_token,
                                        std::vector<graph::WantedSubscription> wanted, SyncOptions options) {
  const std::string manifest = options.manifest.string();
  std::string url = callback_url;
  const auto changes =
      co_await graph::sync_subscriptions(*graph, std::move(url), verify_token, std::move(wanted), options.yes);
  if (!changes) co_return report(changes.error(), "subscriptions sync", 1);
  if (changes->empty()) {
    std::printf("the app's subscriptions match %s (callback %s)\n", manifest.c_str(), callback_url.c_str());
    co_return 0;
  }
  std::printf("callback %s\n", callback_url.c_str());
  for (const SubscriptionChange& change : *changes) print_change(change);
  if (!options.yes) {
    std::fprintf(stderr, "wik: subscriptions sync: %zu change(s) to make the app's subscriptions match %s; run again "
                         "with --yes to apply them\n",
                 changes->size(), manifest.c_str());
    co_return 1;
  }
  std::printf("applied %zu change(s); the app's subscriptions match %s\n", changes->size(), manifest.c_str());
  co_return 0;
}

int run_list(const GlobalOptions& global) {
  auto config = load_config(global.config_file);
  if (!config) return report(config.error(), "subscriptions list", 2);
  auto app_graph = connect_app_graph(*config);
  if (!app_graph) return report(app_graph.error(), "subscriptions list", 2);
  return run_to_end(**app_graph, show_subscriptions((*app_graph)->graph.get()));
}

int run_sync(const GlobalOptions& global, const SyncOptions& options) {
  constexpr std::string_view kContext = "subscriptions sync";
  auto config = load_config(global.config_file);
  if (!config) return report(config.error(), kContext, 2);
  auto app_graph = connect_app_graph(*config);
  if (!app_graph) return report(app_graph.error(), kContext, 2);
  if (options.yes && config->app.verify_token.empty()) {
    return report(Error(ErrorCode::kConfig, "app.verify_token is not set (set app.verify_token_file or "
                                             "WIK_APP_VERIFY_TOKEN_FILE to the file that holds the token `wik serve` "
                                             "answers the platform's verification with)"),
                  kContext, 2);
  }
  if (!options.callback_url && config->server.public_url.empty()) {
    return report(Error(ErrorCode::kConfig, "server.public_url is not set: set it (WIK_SERVER_PUBLIC_URL) to derive "
                                             "the callback URL, or give --callback-url"),
                  kContext, 2);
  }
  auto manifest = manifest::load_manifest(options.manifest);
  if (!manifest) return report(manifest.error(), kContext, 2);
  if (!manifest->id.empty() && manifest->id != config->app.id) {
    return report(Error(ErrorCode::kConfig, fmt::format("{} describes app {}, but app.id is {}",
                                                        options.manifest.string(), manifest->id, config->app.id)),
                  kContext, 2);
  }
  std::vector<graph::WantedSubscription> wanted;
  for (const auto& [object, fields] : manifest->webhooks) wanted.push_back({.object = object, .fields = fields});
  std::string callback_url = options.callback_url.value_or(config->server.public_url + std::string(kWebhookPath));
  return run_to_end(**app_graph, sync_with_manifest((*app_graph)->graph.get(), std::move(callback_url),
                                                    config->app.verify_token, std::move(wanted), options));
}

}  // namespace

void add_subscriptions_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "subscriptions", "Show the app's webhook subscriptions, or make them match the manifest's [webhooks]");
  command->require_subcommand(1);

  CLI::App* list_command = command->add_subcommand("list", "Show the app's webhook subscriptions");
  list_command->callback([&global, &exit_code] { exit_code = run_list(global); });

  auto options = std::make_shared<SyncOptions>();
  CLI::App* sync_command = command->add_subcommand(
      "sync", "Show how the app's webhook subscriptions differ from the manifest; with --yes, make them match");
  sync_command->add_option("--manifest", options->manifest, "The app manifest (default: app.toml)");
  sync_command->add_option("--callback-url", options->callback_url,
                           "Where the platform delivers webhooks (default: {server.public_url}/workplace/webhook)");
  sync_command->add_flag("--yes", options->yes, "Apply the changes (the callback must be serving)");
  sync_command->callback([&global, options, &exit_code] { exit_code = run_sync(global, *options); });
}

}  // namespace wik::cli
