// Backlog drain (issue 7; docs/PERFORMANCE.md, "Webhooks"): how fast the dispatcher works off a
// large inbox with a no-op handler.
//
//   wik_backlog_drain_bench [--engine sqlite|postgres] [--events N] [--communities N]
//                           [--time-limit SECONDS] [--batch N] [--per-community N] [--store-threads N]
//
// Fills a fresh store (a temporary SQLite file, WAL with synchronous=FULL, or a throw-away
// PostgreSQL 15 cluster with fsync on) with N events (default 1,000,000) spread round-robin over the
// communities (default 10), through the store's bulk path (Store::insert_inbox_events: one call per
// 10,000 events, written by the group committer), each a realistic ~700-byte page delivery with its
// own message id. Then it runs webhooks::Dispatcher, as the App configures it except for the
// options given, with a handler that only counts, until the inbox is empty or the time limit
// (default 300 s) has passed, printing the rate every 10 s. Reports inserts/s and events handled/s;
// then checks the inbox's pending count. Stops by itself.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/key_ring.h"
#include "http/server/metrics.h"
#include "realistic_webhook.h"
#include "store/postgres/postgres_database.h"
#include "store/sqlite/sqlite_database.h"
#include "store/store.h"
#include "support/postgres_cluster.h"
#include "support/temp_dir.h"
#include "webhooks/dispatcher.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kInsertChunk = 10000;
constexpr std::string_view kMidPlaceholder = "@@MID@@";
constexpr auto kReportEvery = std::chrono::seconds(10);

struct Options {
  bool postgres = false;
  std::int64_t events = 1'000'000;
  int communities = 10;
  int time_limit_s = 300;
  std::size_t batch = wik::webhooks::DispatcherOptions{}.batch;
  std::size_t per_community = wik::webhooks::DispatcherOptions{}.per_community;
  std::size_t store_threads = wik::webhooks::DispatcherOptions{}.store_threads;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "backlog_drain_bench: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T need(wik::Result<T> result, const std::string& what) {
  if (!result.ok()) die(what + ": " + result.error().reason() + " " + result.error().detail());
  return std::move(*result);
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string community_id(int index) { return std::to_string(1000000000000LL + index + 1); }

// The handler: counts and succeeds, with no reply.
boost::asio::awaitable<wik::Result<wik::webhooks::EventEffects>> count_event(std::atomic<std::int64_t>* handled) {
  handled->fetch_add(1, std::memory_order_relaxed);
  co_return wik::webhooks::EventEffects{};
}

// Inserts the backlog through Store::insert_inbox_events; returns the seconds it took.
double fill(wik::store::Store& store, const Options& options) {
  std::vector<wik::store::CommunityScope> scopes;
  std::vector<std::pair<std::string, std::string>> templates;  // body around its mid, per community
  const std::int64_t now_ms =
      std::chrono::system_clock::now().time_since_epoch() / std::chrono::milliseconds(1);
  for (int i = 0; i < options.communities; ++i) {
    scopes.push_back(need(store.community(community_id(i)), "scope"));
    need(scopes.back().put_installation({.community_name = "Bench " + std::to_string(i + 1),
                                         .access_token = wik::AccessToken("bench-token"),
                                         .permissions = {"message"},
                                         .installed_by = std::nullopt}),
         "install");
    const std::string body = wik::bench::sized_message_delivery(
        {.community_id = community_id(i),
         .page_id = std::to_string(3000000000000LL + i + 1),
         .sender_id = std::to_string(2000000000000LL + i + 1)},
        kMidPlaceholder, 700, now_ms, 16);
    const std::size_t at = body.find(kMidPlaceholder);
    templates.emplace_back(body.substr(0, at), body.substr(at + kMidPlaceholder.size()));
  }
  const auto start = Clock::now();
  std::int64_t next = 0;
  std::int64_t reported = 0;
  while (next < options.events) {
    std::vector<wik::store::ScopedInboxEvent> events;
    for (; next < options.events && events.size() < kInsertChunk; ++next) {
      const auto community = static_cast<std::size_t>(next % options.communities);
      const std::string mid = "m_backlog_" + std::to_string(next);
      events.push_back({.community = &scopes[community],
                        .event = {.topic = "page/messages",
                                  .dedupe_key = "mid:" + mid,
                                  .payload = templates[community].first + mid + templates[community].second}});
    }
    for (auto& outcome : store.insert_inbox_events(events)) {
      if (!outcome.ok() || *outcome != wik::store::InsertOutcome::kStored) die("an insert was not stored");
    }
    if (next - reported >= 100000 || next == options.events) {
      std::printf("  inserted %lld (%.0f/s)\n", static_cast<long long>(next),
                  static_cast<double>(next) / seconds(Clock::now() - start));
      std::fflush(stdout);
      reported = next;
    }
  }
  return seconds(Clock::now() - start);
}

std::int64_t pending(wik::store::Store& store) {
  std::int64_t total = 0;
  for (const auto& counts : need(store.inbox_counts(), "inbox counts")) total += counts.pending;
  return total;
}

int usage(const char* program) {
  std::fprintf(stderr,
               "usage: %s [--engine sqlite|postgres] [--events N] [--communities N] [--time-limit SECONDS]\n"
               "          [--batch N] [--per-community N] [--store-threads N]\n",
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
      options.postgres = engine == "postgres";
    } else if (arg == "--events" && has_value) {
      options.events = std::stoll(argv[++i]);
    } else if (arg == "--communities" && has_value) {
      options.communities = std::stoi(argv[++i]);
    } else if (arg == "--time-limit" && has_value) {
      options.time_limit_s = std::stoi(argv[++i]);
    } else if (arg == "--batch" && has_value) {
      options.batch = std::stoul(argv[++i]);
    } else if (arg == "--per-community" && has_value) {
      options.per_community = std::stoul(argv[++i]);
    } else if (arg == "--store-threads" && has_value) {
      options.store_threads = std::stoul(argv[++i]);
    } else {
      return usage(argv[0]);
    }
  }
  if (options.events < 1 || options.communities < 1 || options.time_limit_s < 1 || options.batch < 1 ||
      options.per_community < 1) {
    return usage(argv[0]);
  }
  spdlog::set_level(spdlog::level::warn);

  const wik::core::SystemClock clock;
  wik::testing::TempDir dir;
  std::unique_ptr<wik::testing::PostgresCluster> cluster;
  std::unique_ptr<wik::store::Database> database;
  if (options.postgres) {
    cluster = need(wik::testing::PostgresCluster::start({.fsync = true}), "PostgreSQL");
    database = need(wik::store::PostgresDatabase::open({.conninfo = need(cluster->create_database(), "database")}),
                    "open PostgreSQL");
  } else {
    database = need(wik::store::SqliteDatabase::open({.path = dir.path() / "backlog.db"}), "open SQLite");
  }
  auto store =
      need(wik::store::Store::open(std::move(database), wik::core::KeyRing::generate("bench"), clock), "store");

  std::printf(
      "backlog drain: %lld events over %d communities, %s, dispatcher batch %zu (%zu per community), %zu store "
      "threads\n",
      static_cast<long long>(options.events), options.communities, options.postgres ? "PostgreSQL" : "SQLite",
      options.batch, options.per_community, options.store_threads);
  const double fill_s = fill(*store, options);
  std::printf("filled: %lld events in %.1f s (%.0f inserts/s)\n", static_cast<long long>(options.events), fill_s,
              static_cast<double>(options.events) / fill_s);
  std::fflush(stdout);

  boost::asio::io_context io(1);
  auto work = boost::asio::make_work_guard(io);
  wik::http::MetricsRegistry metrics;
  std::atomic<std::int64_t> handled{0};
  wik::webhooks::EventHandler handler = [counter = &handled](const wik::store::ClaimedEvent&) {
    return count_event(counter);
  };
  wik::webhooks::DispatcherOptions dispatcher_options;
  dispatcher_options.batch = options.batch;
  dispatcher_options.per_community = options.per_community;
  dispatcher_options.store_threads = options.store_threads;
  auto dispatcher =
      std::make_unique<wik::webhooks::Dispatcher>(*store, std::move(handler), clock, metrics, dispatcher_options);

  const auto start = Clock::now();
  const auto limit = start + std::chrono::seconds(options.time_limit_s);
  dispatcher->start(io.get_executor());
  std::thread loop([&io] { io.run(); });
  auto last_report = start;
  std::int64_t last_count = 0;
  auto finished = start;
  while (handled.load() < options.events && Clock::now() < limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto now = Clock::now();
    if (now - last_report >= kReportEvery) {
      const std::int64_t count = handled.load();
      std::printf("  %5.0f s: %lld handled, %.0f/s in the last %.0f s\n", seconds(now - start),
                  static_cast<long long>(count), static_cast<double>(count - last_count) / seconds(now - last_report),
                  seconds(now - last_report));
      std::fflush(stdout);
      last_report = now;
      last_count = count;
    }
  }
  finished = Clock::now();
  dispatcher->stop();
  work.reset();
  loop.join();
  dispatcher.reset();
  const std::int64_t done = handled.load();
  const std::int64_t left = pending(*store);
  const double drain_s = seconds(finished - start);
  std::printf("drained: %lld events in %.1f s: %.0f events/s%s; %lld pending left\n", static_cast<long long>(done),
              drain_s, static_cast<double>(done) / drain_s, done < options.events ? " (time limit reached)" : "",
              static_cast<long long>(left));
  std::printf("goal: >= 20,000 events/s with a no-op handler\n");
  return left == options.events - done ? 0 : 1;
}
