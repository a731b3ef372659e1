// The server bench/webhook_ingest_bench.sh loads: a wik::App, as `wik serve` runs one, with a
// no-op message handler and N communities installed in its store.
//
//   wik_webhook_ingest_server [--engine sqlite|postgres] [--sqlite PATH] [--postgres-url URL]
//                             [--communities N] [--threads N] [--templates FILE] [--body-bytes N]
//                             [--ingest-only]
//
// Before serving it records N installations (community ids 1000000000001…) in the store, as the
// install flow would, and, with --templates, writes the body templates the wrk script signs and
// sends: the app secret on the first line, then per community one delivery (a page `messages`
// entry of about --body-bytes bytes, serialised as the emulator does) split around its message id
// as "prefix<TAB>suffix". It listens on 127.0.0.1 (a free port), prints "listening on <port>" once
// ready, and on SIGTERM or SIGINT stops the App (in-flight deliveries finish) and prints the inbox
// as "inbox total=N pending=N done=N" for the durability check, then exits 0. The store is the
// App's own: durable (SQLite WAL synchronous=FULL, or PostgreSQL commits) before every 200.
//
// --ingest-only serves the webhook route alone, for finding where the time goes: the same
// webhooks::WebhookIngest the App mounts, on an http::Server (access log off) and the store, but no
// dispatcher, so stored events stay pending.
#include <wik/app.h>

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "app/database.h"
#include "core/clock.h"
#include "core/key_ring.h"
#include "http/server/server.h"
#include "realistic_webhook.h"
#include "store/store.h"
#include "webhooks/ingest.h"

namespace {

constexpr const char* kAppId = "1111222233334444";
constexpr const char* kAppSecret = "bench0123456789abcdef0123456789ab";
constexpr const char* kVerifyToken = "bench-verify-token";
constexpr std::string_view kMidPlaceholder = "@@MID@@";
// The mids the wrk script writes ("m_<run><nonce>_<thread>_<n>") are about this long.
constexpr std::size_t kMidLength = 32;

struct Options {
  wik::StoreEngine engine = wik::StoreEngine::kSqlite;
  std::string sqlite_path = "wik-bench.db";
  std::string postgres_url;
  int communities = 5;
  unsigned threads = 0;
  std::string templates;
  std::size_t body_bytes = 700;
  bool ingest_only = false;
};

std::string community_id(int index) { return std::to_string(1000000000000LL + index + 1); }

wik::bench::ChatParties parties(int index) {
  return {.community_id = community_id(index),
          .page_id = std::to_string(3000000000000LL + index + 1),
          .sender_id = std::to_string(2000000000000LL + index + 1)};
}

wik::Config config_of(const Options& options, const std::string& ring) {
  wik::Config config;
  config.app.id = kAppId;
  config.app.secret = wik::Secret(kAppSecret);
  config.app.verify_token = wik::Secret(kVerifyToken);
  config.app.graph_url = "http://127.0.0.1:9";  // never called: the handler does nothing
  config.app.workplace_url = "http://127.0.0.1:9";
  config.app.redirect_url = "http://127.0.0.1:9/workplace/install";
  config.server.port = 0;
  config.server.threads = options.threads;
  config.store.engine = options.engine;
  config.store.sqlite_path = options.sqlite_path;
  config.store.postgres_url = wik::Secret(options.postgres_url);
  config.keys.ring = wik::Secret(ring);
  config.log.level = wik::LogLevel::kWarn;
  return config;
}

// Records the installs in the App's database before it starts, as the install flow would.
bool install_communities(const wik::Config& config, int communities) {
  const wik::core::SystemClock clock;
  auto database = wik::app::open_database(config);
  if (!database.ok()) {
    std::fprintf(stderr, "cannot open the database: %s\n", database.error().reason().c_str());
    return false;
  }
  auto store = wik::store::Store::open(std::move(*database),
                                      wik::core::KeyRing::parse(config.keys.ring->expose()).value(), clock);
  if (!store.ok()) {
    std::fprintf(stderr, "cannot open the store: %s\n", store.error().reason().c_str());
    return false;
  }
  for (int i = 0; i < communities; ++i) {
    auto scope = (*store)->community(community_id(i));
    if (!scope.ok() || !scope->put_installation({.community_name = "Bench " + std::to_string(i + 1),
                                                 .access_token = wik::AccessToken("bench-token-" + std::to_string(i)),
                                                 .permissions = {"message"},
                                                 .installed_by = std::nullopt})
                            .ok()) {
      std::fprintf(stderr, "cannot install community %d\n", i + 1);
      return false;
    }
  }
  return true;
}

bool write_templates(const Options& options) {
  std::ofstream out(options.templates, std::ios::trunc);
  out << kAppSecret << '\n';
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (int i = 0; i < options.communities; ++i) {
    const std::string body =
        wik::bench::sized_message_delivery(parties(i), kMidPlaceholder, options.body_bytes, now_ms, kMidLength);
    const std::size_t at = body.find(kMidPlaceholder);
    out << body.substr(0, at) << '\t' << body.substr(at + kMidPlaceholder.size()) << '\n';
  }
  return static_cast<bool>(out.flush());
}

// Prints the inbox rows by state: what was durably stored.
bool print_inbox(const wik::Config& config) {
  auto database = wik::app::open_database(config);
  if (!database.ok()) return false;
  std::int64_t pending = 0;
  std::int64_t done = 0;
  std::int64_t other = 0;
  auto counted = (*database)->transact([&](wik::store::Transaction& tx) -> wik::Result<void> {
    auto rows = tx.query("SELECT state, COUNT(*) FROM inbox GROUP BY state");
    if (!rows) return rows.error();
    for (const auto& row : *rows) {
      (row.text(0) == "pending" ? pending : row.text(0) == "done" ? done : other) += row.integer(1);
    }
    return wik::ok_result();
  });
  if (!counted.ok()) return false;
  std::printf("inbox total=%lld pending=%lld done=%lld other=%lld\n", static_cast<long long>(pending + done + other),
              static_cast<long long>(pending), static_cast<long long>(done), static_cast<long long>(other));
  return true;
}

boost::asio::awaitable<wik::Result<void>> ignore(wik::Context&, const wik::Message&) { co_return wik::ok_result(); }

// Serves the App until SIGTERM or SIGINT (blocked in every thread, taken by sigwait here).
bool serve_app(const wik::Config& config, const sigset_t& signals) {
  wik::App app(config);
  app.on_message(ignore);
  if (auto started = app.start(); !started.ok()) {
    std::fprintf(stderr, "cannot start: %s\n", started.error().reason().c_str());
    return false;
  }
  std::printf("listening on %u\n", static_cast<unsigned>(app.port()));
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  app.stop();
  return true;
}

// Serves the webhook route alone (no dispatcher) until SIGTERM or SIGINT.
bool serve_ingest(const wik::Config& config, const Options& options, const sigset_t& signals) {
  spdlog::set_level(spdlog::level::warn);  // the App does this from config.log
  const wik::core::SystemClock clock;
  auto database = wik::app::open_database(config);
  if (!database.ok()) return false;
  auto store = wik::store::Store::open(std::move(*database),
                                      wik::core::KeyRing::parse(config.keys.ring->expose()).value(), clock);
  if (!store.ok()) return false;
  wik::http::ServerOptions server_options;
  server_options.address = "127.0.0.1";
  server_options.port = 0;
  server_options.io_threads = options.threads;
  server_options.access_log = false;
  wik::http::Server server(server_options);
  wik::webhooks::IngestOptions ingest_options;
  ingest_options.verify_token = config.app.verify_token;
  ingest_options.app_secrets = {config.app.secret};
  auto ingest = std::make_unique<wik::webhooks::WebhookIngest>(**store, std::move(ingest_options), server.metrics());
  ingest->add_routes(server.router());
  if (auto started = server.start(); !started.ok()) {
    std::fprintf(stderr, "cannot start: %s\n", started.error().reason().c_str());
    return false;
  }
  std::printf("listening on %u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  server.stop();
  ingest.reset();  // joins its pool before the server goes
  return true;
}

int usage(const char* program) {
  std::fprintf(stderr,
               "usage: %s [--engine sqlite|postgres] [--sqlite PATH] [--postgres-url URL] [--communities N]\n"
               "          [--threads N] [--templates FILE] [--body-bytes N] [--ingest-only]\n",
               program);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--engine" && has_value) {
      const std::string_view engine = argv[++i];
      if (engine != "sqlite" && engine != "postgres") return usage(argv[0]);
      options.engine = engine == "sqlite" ? wik::StoreEngine::kSqlite : wik::StoreEngine::kPostgres;
    } else if (arg == "--sqlite" && has_value) {
      options.sqlite_path = argv[++i];
    } else if (arg == "--postgres-url" && has_value) {
      options.postgres_url = argv[++i];
    } else if (arg == "--communities" && has_value) {
      options.communities = std::stoi(argv[++i]);
    } else if (arg == "--threads" && has_value) {
      options.threads = static_cast<unsigned>(std::stoul(argv[++i]));
    } else if (arg == "--templates" && has_value) {
      options.templates = argv[++i];
    } else if (arg == "--body-bytes" && has_value) {
      options.body_bytes = std::stoul(argv[++i]);
    } else if (arg == "--ingest-only") {
      options.ingest_only = true;
        } else {
      return usage(argv[0]);
    }
  }
  if (options.communities < 1 || (options.engine == wik::StoreEngine::kPostgres && options.postgres_url.empty())) {
    return usage(argv[0]);
  }

  // Every thread the App starts inherits this mask, so the signals reach only the sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::string ring(wik::core::KeyRing::generate("bench").serialize().expose());
  const wik::Config config = config_of(options, ring);
  if (!install_communities(config, options.communities)) return 1;
  if (!options.templates.empty() && !write_templates(options)) {
    std::fprintf(stderr, "cannot write %s\n", options.templates.c_str());
    return 1;
  }

  if (!(options.ingest_only ? serve_ingest(config, options, signals) : serve_app(config, signals))) return 1;
  if (!print_inbox(config)) {
    std::fprintf(stderr, "cannot count the inbox\n");
    return 1;
  }
  return 0;
}
