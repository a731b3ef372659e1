// Store benchmarks (docs/PERFORMANCE.md, "Store"):
//  - BM_InboxInsert: durable inbox inserts per second from N threads, with group commit and with one
//    transaction per row, on SQLite and on PostgreSQL (a throw-away cluster with fsync on).
//  - BM_PurgeWhileOthersWrite: the purge of one community holding 1,000,000 app rows while another
//    community keeps inserting inbox events; reports the purge time and the writer's latency
//    percentiles before and during the purge.
#include <benchmark/benchmark.h>

#include "core/clock.h"
#include "core/key_ring.h"
#include "store/postgres/postgres_database.h"
#include "store/sqlite/sqlite_database.h"
#include "store/store.h"
#include "support/postgres_cluster.h"
#include "support/temp_dir.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace wik::store {
namespace {

using Clock = std::chrono::steady_clock;

enum Engine : std::int64_t { kSqlite = 0, kPostgres = 1 };

// A fresh database on one engine, kept for the life of a benchmark run.
class BenchDatabase {
 public:
  explicit BenchDatabase(Engine engine) : engine_(engine) {
    if (engine_ == kPostgres) {
      static Result<std::unique_ptr<testing::PostgresCluster>> cluster =
          testing::PostgresCluster::start({.fsync = true});
      if (!cluster) fatal("cannot start PostgreSQL: " + cluster.error().detail());
      conninfo_ = (*cluster)->create_database().value();
    }
  }

  std::unique_ptr<Database> open() {
    if (engine_ == kSqlite) return SqliteDatabase::open({.path = dir_.path() / "bench.db"}).value();
    return PostgresDatabase::open({.conninfo = conninfo_, .pool_size = 8}).value();
  }

 private:
  Engine engine_;
  testing::TempDir dir_;
  std::string conninfo_;
};

std::unique_ptr<Store> open_store(BenchDatabase& database, const core::Clock& clock, bool group_commit,
                                  std::int64_t purge_batch_rows = StoreOptions{}.purge_batch_rows) {
  StoreOptions options;
  options.group_commit = group_commit;
  options.purge_batch_rows = purge_batch_rows;
  return Store::open(database.open(), core::KeyRing::generate("bench"), clock, options).value();
}

void install(Store& store, const std::string& community) {
  (void)store.community(community)
      .value()
      .put_installation({.community_name = "Bench", .access_token = AccessToken("t"), .permissions = {},
                         .installed_by = {}})
      .value();
}

std::string payload() { return std::string(800, 'x'); }  // a typical webhook body

// Args: engine, group commit (0/1), threads.
void BM_InboxInsert(benchmark::State& state) {
  constexpr int kPerThread = 100;
  const core::SystemClock clock;
  BenchDatabase database(static_cast<Engine>(state.range(0)));
  std::unique_ptr<Store> store = open_store(database, clock, state.range(1) != 0);
  install(*store, "1");
  const auto threads = static_cast<int>(state.range(2));
  std::atomic<std::int64_t> sequence{0};
  for (auto _ : state) {
    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t) {
      writers.emplace_back([&] {
        CommunityScope community = store->community("1").value();
        for (int i = 0; i < kPerThread; ++i) {
          const std::string key = "k" + std::to_string(sequence++);
          if (!community.insert_inbox_event({.topic = "page", .dedupe_key = key, .payload = payload()})) {
            fatal("insert failed");
          }
        }
      });
    }
    for (std::thread& writer : writers) writer.join();
  }
  state.SetItemsProcessed(state.iterations() * threads * kPerThread);
}
BENCHMARK(BM_InboxInsert)
    ->ArgNames({"engine", "group_commit", "threads"})
    ->ArgsProduct({{kSqlite, kPostgres}, {0, 1}, {1, 8, 32}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);

// Returns the `percentile` (0-1) of `samples` in microseconds.
double percentile_us(std::vector<Clock::duration> samples, double percentile) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const auto index = static_cast<std::size_t>(percentile * static_cast<double>(samples.size() - 1));
  return std::chrono::duration<double, std::micro>(samples[index]).count();
}

// Inserts events for community "2" one after another until `stop`, recording each latency.
std::vector<Clock::duration> write_until(Store& store, const std::atomic<bool>& stop, std::int64_t& sequence) {
  std::vector<Clock::duration> latencies;
  CommunityScope community = store.community("2").value();
  while (!stop) {
    const auto start = Clock::now();
    if (!community.insert_inbox_event(
            {.topic = "page", .dedupe_key = "w" + std::to_string(sequence++), .payload = payload()})) {
      fatal("insert failed");
    }
    latencies.push_back(Clock::now() - start);
  }
  return latencies;
}

// Args: engine, app rows of the purged community, rows per purge batch.
void BM_PurgeWhileOthersWrite(benchmark::State& state) {
  const core::SystemClock clock;
  const auto rows = state.range(1);
  for (auto _ : state) {
    state.PauseTiming();
    BenchDatabase database(static_cast<Engine>(state.range(0)));
    std::unique_ptr<Store> store = open_store(database, clock, true, state.range(2));
    std::unique_ptr<Database> raw = database.open();
    const bool sqlite = state.range(0) == kSqlite;
    Result<void> seeded = raw->transact([&](Transaction& tx) -> Result<void> {
      if (Result<void> created = tx.execute_script(
              "CREATE TABLE tickets (community_id TEXT NOT NULL, body TEXT NOT NULL);"
              "CREATE INDEX tickets_community ON tickets (community_id)");
          !created) {
        return created;
      }
      const std::string fill =
          sqlite ? "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2) "
                   "INSERT INTO tickets SELECT $1, 'ticket body number ' || i FROM n"
                 : "INSERT INTO tickets SELECT $1, 'ticket body number ' || i FROM generate_series(1, $2::bigint) i";
      for (const char* community : {"1", "2"}) {
        Result<std::int64_t> filled = tx.execute(fill, {community, community[0] == '1' ? rows : rows / 100});
        if (!filled) return filled.error();
      }
      return ok_result();
    });
    if (!seeded) fatal("seeding failed: " + seeded.error().detail());
    if (!store->register_app_table({.table = "tickets", .community_column = "community_id"})) fatal("register");
    install(*store, "1");
    install(*store, "2");

    std::int64_t sequence = 0;
    std::atomic<bool> stop{false};
    std::thread baseline_stopper([&] {
      std::this_thread::sleep_for(std::chrono::seconds(2));
      stop = true;
    });
    const std::vector<Clock::duration> baseline = write_until(*store, stop, sequence);
    baseline_stopper.join();
    stop = false;
    const PurgeJob job = store->community("1").value().request_purge(clock.now() + std::chrono::hours(24)).value();
    state.ResumeTiming();

    const auto purge_start = Clock::now();
    std::vector<Clock::duration> during;
    std::thread writer([&] { during = write_until(*store, stop, sequence); });
    const PurgeJob done = store->run_purge_job(job.id).value();
    const auto purge_time = Clock::now() - purge_start;
    stop = true;
    writer.join();

    state.PauseTiming();
    state.counters["purge_s"] = std::chrono::duration<double>(purge_time).count();
    state.counters["rows_deleted"] = static_cast<double>(done.rows_deleted.at("tickets"));
    state.counters["others_writes"] = static_cast<double>(during.size());
    state.counters["others_p50_us"] = percentile_us(during, 0.50);
    state.counters["others_p99_us"] = percentile_us(during, 0.99);
    state.counters["others_max_us"] = percentile_us(during, 1.0);
    state.counters["baseline_p50_us"] = percentile_us(baseline, 0.50);
    state.counters["baseline_p99_us"] = percentile_us(baseline, 0.99);
    store.reset();
    raw.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_PurgeWhileOthersWrite)
    ->ArgNames({"engine", "rows", "batch"})
    ->ArgsProduct({{kSqlite, kPostgres}, {1'000'000}, {1000, 5000}})
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);

}  // namespace
}  // namespace wik::store
