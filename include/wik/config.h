// wik::Config: the kit's settings, as loaded from wik.toml and the environment.
//
// Every field starts at its documented default, so a default-constructed Config is what wik runs on
// without a configuration file. The loader (config/config.h inside the kit) fills it in and checks
// every value; docs/configuration.md lists each setting with its environment variable. Secrets
// (the app secret, the PostgreSQL URL, the key ring) are wik::Secret values that never render, and
// come only from files or environment variables, never from wik.toml itself.
// A plain value type: copyable, no invariants beyond those the loader checks.
#pragma once

#include <wik/secret.h>

#include <wik/result.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace wik {

enum class StoreEngine { kSqlite, kPostgres };
enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kOff };
enum class LogFormat { kText, kJson };

// [app]: the Workplace app this integration is.
struct AppConfig {
  std::string id;                                      // digits only; empty until configured
  Secret secret;                                       // empty until configured
  // During a rotation of the app secret (docs/security.md): the secret being replaced, which still
  // verifies incoming signatures (webhooks, deauthorizations) until previous_secret_until and is
  // never used to sign. Empty outside a rotation; the loader sets both or neither.
  Secret previous_secret;
  std::optional<std::chrono::system_clock::time_point> previous_secret_until;
  std::string graph_url = "https://graph.workplace.com";  // no trailing '/'
  std::string graph_version = "v3.2";
  std::string workplace_url = "https://work.workplace.com";  // base of the install dialog; no trailing '/'
  std::string redirect_url;  // the registered Redirect URL; empty: {server.public_url}/workplace/install
  Secret verify_token;       // the webhook subscription's verify token; empty until configured
  // How often each install is re-verified (GET /community) to catch an uninstall whose deauthorize
  // callback was missed (docs/deauthorization.md). 0: never.
  std::chrono::hours reverify_interval = std::chrono::hours(6);
};

// [server]: where `wik serve` listens.
struct ServerConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port
  unsigned threads = 0;       // I/O threads; 0: one per CPU core
  std::string public_url;     // the https URL Workplace reaches this server at; empty until configured
  // The reverse proxies in front of the server that append the client's address to
  // X-Forwarded-For (docs/install.md, sign-in throttling). 0: none; X-Forwarded-For is ignored.
  unsigned trusted_proxy_hops = 0;
};

// [store]: where installs, tokens and events are kept.
struct StoreConfig {
  StoreEngine engine = StoreEngine::kSqlite;
  std::filesystem::path sqlite_path = "wik.db";
  Secret postgres_url;  // may hold a password; required when engine is kPostgres
};

// [webhooks]: how `wik serve` stores and dispatches webhook events (docs/webhooks.md).
struct WebhooksConfig {
  // Store threads of the ingest: deliveries committing at once, so the most one group commit holds.
  unsigned ingest_store_threads = 8;
  // Store threads of the dispatcher (claims, completions, failures).
  unsigned dispatch_store_threads = 2;
  unsigned dispatch_batch = 512;         // most events one claim takes
  unsigned dispatch_per_community = 64;  // most events of one community in a claim, handled in turn
  // How long the dispatcher's claim on an event lasts: a process that stops while handling (killed,
  // paused) leaves its claimed events to another worker after this. A handler gets at most this
  // long (and at most 30 s).
  std::chrono::seconds lease = std::chrono::seconds(60);
  // How long a handled event's row (its de-duplication key) is kept: a redelivery within it is
  // recognised as a duplicate. At least 72 h, twice the platform's 36 h retry horizon.
  std::chrono::hours dedupe_retention = std::chrono::hours(72);
};

// [bot]: how fast the bot's queued replies leave (docs/webhooks.md, "Pacing"), so one busy
// community cannot spend the app's whole rate limit and one conversation is not flooded. A reply
// held back by either rule waits in the outbox; it is neither an error nor an attempt.
struct BotConfig {
  unsigned community_budget = 300;  // most messages sent to one community in any budget_window
  std::chrono::seconds budget_window = std::chrono::seconds(60);
  // One conversation (recipient or thread) of a community gets a burst of `thread_burst` messages
  // at once, then one per `thread_spacing` (a greeting and an answer are not held); 0 spacing: none.
  std::chrono::milliseconds thread_spacing = std::chrono::milliseconds(500);
  unsigned thread_burst = 3;
};

// [keys]: the key ring that seals access tokens at rest (docs/key-ring.md).
struct KeysConfig {
  std::optional<Secret> ring;  // the ring's text, parsed by core::KeyRing::parse
};

// [log]: also what log::init_logging takes.
struct LogOptions {
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kText;
};

struct Config {
  AppConfig app;
  ServerConfig server;
  StoreConfig store;
  WebhooksConfig webhooks;
  BotConfig bot;
  KeysConfig keys;
  LogOptions log;
  std::string source = "defaults";  // the configuration file's path, or "defaults" without one
};

// Returns the configuration in `file` — by default $WIK_CONFIG, else ./wik.toml if it exists, else
// none — with the WIK_* environment variables applied, every value checked (docs/configuration.md).
// kConfig names the setting and where its bad value came from; no reason ever holds a secret.
Result<Config> load_config(const std::optional<std::filesystem::path>& file = std::nullopt);

}  // namespace wik
