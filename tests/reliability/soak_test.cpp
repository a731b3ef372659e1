// H10 (docs/RELIABILITY.md): the soak — at half its maximum webhook rate, with a realistic mix, the
// integration's memory stays flat, its latency does not rise, and it loses nothing.
//
// The crash integration (crash_integration.cpp, a real wik::App configured as `wik serve` is) runs
// as a child process on SQLite, so its resident set is its own; the emulator runs in the test's
// process as the platform of the installs and uninstalls. Phase 1 measures the maximum rate: a few
// seconds of closed-loop clients posting signed chat messages back to back. Phase 2 posts open-loop
// at half that rate for `minutes` intervals: each event is due at a fixed time, whatever the
// answers before it, and its latency runs from that time to its answer, so a stall is counted in
// full. The mix, of every 10 events: 7 chat messages, 2 postbacks, 1 group post, with the bodies the
// emulated platform sends (bench/realistic_webhook.h, the emulator's builders). In the middle of
// every interval one more community installs the app (in the emulator, and in the kit's store as
// the install flow records it) and the one installed an interval earlier uninstalls it (through the
// emulator, whose deauthorization POST makes the kit revoke it and purge its rows).
//
// A sampler reads the integration's resident memory once a second (smaps_rollup); at the end of
// every interval the test prints `H10 interval i/n: requests=…, p50=… ms, p99=… ms, RSS=… MiB
// (anonymous …), backlog=…` (RSS: the median of the interval's samples; backlog: events stored, not
// yet handled); at the end, `H10 soak: …` with the RSS growth from the first interval (the warm-up)
// to the last. Asserted: every event
// acknowledged and handled exactly once (the checker of H1, history_checker.h), nothing pending or
// dead in the inbox, every uninstalled community revoked and purged, every other install active.
// The RSS growth is asserted (< 5 %) only in the full-size run, $WIK_H10_MINUTES intervals of 60 s
// (scripts/reliability.sh); the quick run (3 intervals of 10 s) prints it, since a sanitizer build's
// quarantine grows the heap by design. Every wait is bounded; the child is killed whatever the
// outcome.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "../../bench/realistic_webhook.h"
#include "core/hub_signature.h"
#include "emulator/emulator.h"
#include "emulator/webhook_delivery/events.h"
#include "http/raw_connection.h"
#include "reliability/crash_test_bed.h"
#include "reliability/history_checker.h"
#include "reliability/integration_process.h"
#include "reliability/webhook_sender.h"
#include "store/store.h"
#include "support/resident_memory.h"
#include "support/result_matchers.h"
#include "support/temp_dir.h"

namespace wik {
namespace {

namespace events = emulator::events;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using wik::testing::CrashTestBed;
using wik::testing::Engine;
using wik::testing::HandledRow;
using wik::testing::HistoryReport;
using wik::testing::Resident;
using wik::testing::resident_memory;
using wik::testing::IntegrationProcess;
using wik::testing::IsOk;
using wik::testing::kCrashTestAppId;
using wik::testing::LedgerEntry;

constexpr const char* kPageId = "2035268540053170";
constexpr const char* kGroupId = "1980544213003375";
constexpr const char* kMinutesVariable = "WIK_H10_MINUTES";
constexpr long kQuickIntervals = 3;
constexpr std::chrono::seconds kQuickInterval{10};
constexpr std::chrono::seconds kFullInterval{60};
constexpr std::chrono::seconds kQuickProbe{3};
constexpr std::chrono::seconds kFullProbe{10};
constexpr double kMaxRssGrowthPercent = 5;
constexpr int kClients = 8;                  // connections of the probe and of the open-loop load
constexpr std::size_t kMessageBytes = 900;   // a chat message's body, about
constexpr std::size_t kPostTextBytes = 400;  // a group post's text
// After the load: how long re-sends, handling, revocations and purges may take.
constexpr std::chrono::seconds kDrainLimit{60};
constexpr std::chrono::milliseconds kAnswerTimeout{10000};
const std::vector<std::string> kCommunities = {"1861805427438601", "1861805427438602", "1861805427438603",
                                               "1861805427438604"};

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One webhook delivery of the mix: the event's community, its key (what the handler records: a
// message's mid, a postback's payload, a group post's id) and the delivery's exact bytes.
struct SoakEvent {
  std::string community_id;
  std::string key;
  std::string body;
};

// Returns event number `sequence` of the mix: of every 10, 7 chat messages, 2 postbacks, 1 group post,
// to the communities in turn, from 50 people. Every key ends in the event's number.
SoakEvent make_event(std::uint64_t sequence) {
  const std::string number = std::to_string(sequence);
  const std::string& community = kCommunities[sequence % kCommunities.size()];
  const std::string person = std::to_string(100015782744000 + sequence % 50);
  const std::int64_t now = unix_ms();
  const std::uint64_t slot = sequence % 10;
  if (slot < 7) {
    std::string mid = "mid.$h10n" + number;
    std::string body =
        bench::sized_message_delivery({.community_id = community, .page_id = kPageId, .sender_id = person}, mid,
                                      kMessageBytes, now);
    return {community, std::move(mid), std::move(body)};
  }
  if (slot < 9) {
    std::string payload = "H10_TICKET_" + number;
    const events::ChatContext context{.sender_id = person, .community_id = community, .page_id = kPageId,
                                      .timestamp_ms = now};
    const std::vector<events::EntryItem> items = {
        {.entry_id = kPageId, .field = "messaging_postbacks",
         .item = events::postback_item(context, "Open a ticket", payload)}};
    return {community, std::move(payload), events::serialize_ascii(events::envelope("page", items, now))};
  }
  std::string post_id = std::string(kGroupId) + "_" + number;
  const events::FeedItem post{.from = {.id = person, .name = "Soak Person"},
                              .community_id = community,
                              .group_id = kGroupId,
                              .post_id = post_id,
                              .message = bench::message_text(kPostTextBytes),
                              .created_at = now / 1000,
                              .permalink_url = "https://work.example/groups/" + std::string(kGroupId)};
  const std::vector<events::EntryItem> items = {
      {.entry_id = kGroupId, .field = "posts", .item = events::group_post_value(post)}};
  return {community, std::move(post_id), events::serialize_ascii(events::envelope("group", items, now))};
}

// One client of the platform: posts signed deliveries to the integration's webhook callback over one
// keep-alive connection, opening a new one when the integration closed it. One thread at a time.
class WebhookClient {
 public:
  WebhookClient(std::uint16_t port, const Secret& app_secret) : port_(port), app_secret_(app_secret) {}

  // Posts `event` once, signed with X-Hub-Signature-256 over its exact bytes, and records the
  // attempt in `entry`; returns true when it was acknowledged (2xx).
  bool post(const SoakEvent& event, LedgerEntry& entry) {
    ++entry.attempts;
    if (!connection_.is_open() && !connection_.connect(port_)) {
      ++entry.refused;
      return false;
    }
    const std::string signature = core::sign_hub_signature(core::HubAlgorithm::kSha256, app_secret_, event.body);
    const std::string request =
        "POST /workplace/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "X-Hub-Signature-256: " + signature + "\r\nContent-Length: " + std::to_string(event.body.size()) +
        "\r\n\r\n" + event.body;
    const auto response = connection_.round_trip(request, kAnswerTimeout);
    if (!response) {
      ++entry.indeterminate;
      connection_.close();
      return false;
    }
    if (!response->keep_alive) connection_.close();
    entry.last_status = response->status;
    entry.acknowledged = response->status / 100 == 2;
    if (!entry.acknowledged) ++entry.rejected;
    if (response->status / 100 == 5) ++entry.server_errors;
    return entry.acknowledged;
  }

 private:
  std::uint16_t port_;
  const Secret& app_secret_;
  http::testing::RawConnection connection_;
};

LedgerEntry ledger_entry(const SoakEvent& event) { return {.community_id = event.community_id, .mid = event.key}; }

double mebibytes(std::int64_t kib) { return static_cast<double>(kib) / 1024; }

// Returns the `fraction` quantile of `values` (sorted here), or 0 for none.
double quantile(std::vector<double> values, double fraction) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1) + 0.5);
  return values[index];
}

std::string fixed(double value, int decimals = 1) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string bracketed(const std::vector<double>& values) {
  std::string text = "[";
  for (std::size_t i = 0; i < values.size(); ++i) text += (i == 0 ? "" : ", ") + fixed(values[i]);
  return text + "]";
}

// Samples a process's resident memory once a second and gives, for each interval, the median of
// its samples: a single reading catches whatever is in flight at that instant (a batch of events,
// the heap between two of the App's trims) and moves by a MiB either way on a 27 MiB process.
class MemorySampler {
 public:
  explicit MemorySampler(pid_t pid)
      : thread_([this, pid](std::stop_token stop) {
          std::mutex wait_mutex;
          std::condition_variable_any tick;
          for (;;) {
            const Resident sample = resident_memory(pid);
            {
              const std::lock_guard lock(mutex_);
              samples_.push_back(sample);
            }
            std::unique_lock lock(wait_mutex);
            tick.wait_for(lock, stop, std::chrono::seconds(1), [] { return false; });
            if (stop.stop_requested()) return;
          }
        }) {}

  // The medians, in MiB, of the samples taken since the previous call.
  struct Level {
    double rss_mib = 0;
    double anonymous_mib = 0;
  };
  Level take_interval() {
    std::vector<Resident> samples;
    {
      const std::lock_guard lock(mutex_);
      samples.swap(samples_);
    }
    std::vector<double> rss, anonymous;
    for (const Resident& sample : samples) {
      rss.push_back(mebibytes(sample.rss_kib));
      anonymous.push_back(mebibytes(sample.anonymous_kib));
    }
    return {.rss_mib = quantile(rss, 0.5), .anonymous_mib = quantile(anonymous, 0.5)};
  }

 private:
  std::mutex mutex_;
  std::vector<Resident> samples_;  // guarded by mutex_
  std::jthread thread_;            // last: starts after the members it uses
};

// The senders' shared state: the next event's number, every thread's ledger, and the latencies of
// the open-loop load by the interval in which their answer came. Thread-safe.
class LoadRecord {
 public:
  explicit LoadRecord(std::size_t intervals) : latencies_ms_(intervals) {}

  std::uint64_t next_sequence() { return next_sequence_++; }
  void add(std::vector<LedgerEntry>&& ledger) {
    const std::lock_guard lock(mutex_);
    history_.insert(history_.end(), std::make_move_iterator(ledger.begin()), std::make_move_iterator(ledger.end()));
  }
  void add_latency(std::size_t interval, double milliseconds) {
    const std::lock_guard lock(mutex_);
    latencies_ms_[std::min(interval, latencies_ms_.size() - 1)].push_back(milliseconds);
  }
  std::vector<double> latencies_ms(std::size_t interval) const {
    const std::lock_guard lock(mutex_);
    return latencies_ms_[interval];
  }
  // The ledgers added so far. REQUIRES: no sender runs.
  std::vector<LedgerEntry>& history() { return history_; }

 private:
  std::atomic<std::uint64_t> next_sequence_{0};
  mutable std::mutex mutex_;
  std::vector<LedgerEntry> history_;
  std::vector<std::vector<double>> latencies_ms_;
};

// Runs kClients threads of `send(client, ledger)`, each with a client of its own, until each returns;
// adds their ledgers to `record`.
void run_clients(LoadRecord& record, std::uint16_t port, const Secret& app_secret,
                 const std::function<void(WebhookClient&, std::vector<LedgerEntry>&)>& send) {
  std::vector<std::jthread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&] {
      WebhookClient client(port, app_secret);
      std::vector<LedgerEntry> ledger;
      send(client, ledger);
      record.add(std::move(ledger));
    });
  }
}

// Phase 1: posts chat messages back to back from every client for `probe`; returns the acknowledged
// events a second.
double measure_maximum_rate(LoadRecord& record, std::uint16_t port, const Secret& app_secret,
                            std::chrono::seconds probe) {
  std::atomic<std::size_t> acknowledged{0};
  const Clock::time_point start = Clock::now();
  const Clock::time_point until = start + probe;
  run_clients(record, port, app_secret, [&](WebhookClient& client, std::vector<LedgerEntry>& ledger) {
    while (Clock::now() < until) {
      std::uint64_t sequence = record.next_sequence();
      while (sequence % 10 >= 7) sequence = record.next_sequence();  // the probe posts chat messages only
      const SoakEvent event = make_event(sequence);
      ledger.push_back(ledger_entry(event));
      if (client.post(event, ledger.back())) ++acknowledged;
    }
  });
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(acknowledged) / seconds;
}

// Phase 2: posts the mix open-loop, event k due at start + k / rate, until `until`; records each
// latency from the event's due time to its answer under the interval of the answer.
void run_open_loop(LoadRecord& record, std::uint16_t port, const Secret& app_secret, double rate,
                   Clock::time_point start, Clock::time_point until, Clock::duration interval) {
  const std::uint64_t first = record.next_sequence();  // the load's events are first, first + 1, ...
  std::atomic<std::uint64_t> next{0};
  const auto period = std::chrono::duration<double>(1.0 / rate);
  run_clients(record, port, app_secret, [&](WebhookClient& client, std::vector<LedgerEntry>& ledger) {
    for (;;) {
      const std::uint64_t k = next++;
      const Clock::time_point due = start + std::chrono::duration_cast<Clock::duration>(period * k);
      if (due >= until) return;
      const SoakEvent event = make_event(first + k);
      std::this_thread::sleep_until(due);
      ledger.push_back(ledger_entry(event));
      client.post(event, ledger.back());
      const Clock::time_point answered = Clock::now();
      record.add_latency(static_cast<std::size_t>((answered - start) / interval),
                         std::chrono::duration<double, std::milli>(answered - due).count());
    }
  });
}

// Re-sends every event of `history` that is not acknowledged, as the platform retries, until each
// is or `limit` passes.
void resend_unacknowledged(std::vector<LedgerEntry>& history, std::uint16_t port, const Secret& app_secret,
                           std::chrono::seconds limit) {
  WebhookClient client(port, app_secret);
  const Clock::time_point give_up_at = Clock::now() + limit;
  for (LedgerEntry& entry : history) {
    while (!entry.acknowledged && Clock::now() < give_up_at) {
      const std::uint64_t sequence = std::stoull(entry.mid.substr(entry.mid.find_last_not_of("0123456789") + 1));
      // The same event again, as the platform retries: the same key, a new timestamp.
      if (!client.post(make_event(sequence), entry)) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

// The platform side of the installs: the emulator, with the app registered, and the communities
// that install it and uninstall it, one of each an interval.
class InstallChurn {
 public:
  InstallChurn(emulator::Emulator& platform, store::Store& kit_store) : platform_(platform), kit_store_(kit_store) {}

  // Installs the app in a new community: in the emulator, then in the kit's store as the install
  // flow records it.
  Result<void> install() {
    emulator::PlatformState& state = platform_.state();
    const std::string name = "Soak " + std::to_string(installed_.size());
    auto community = state.create_community(name);
    if (!community) return community.error();
    const std::string email = "admin" + std::to_string(installed_.size()) + "@soak.example";
    auto admin = state.create_user(community->id, {.name = "Admin", .email = email, .system_admin = true});
    if (!admin) return admin.error();
    auto install = state.install_directly(kCrashTestAppId, admin->id);
    if (!install) return install.error();
    auto scope = kit_store_.community(install->community_id);
    if (!scope) return scope.error();
    auto recorded = scope->put_installation({.community_name = name,
                                             .access_token = AccessToken(install->access_token),
                                             .permissions = install->permissions});
    if (!recorded) return recorded.error();
    installed_.push_back({install->community_id, admin->id});
    return ok_result();
  }

  // Uninstalls the app from the oldest community still holding it, through the emulator's control
  // API: the emulator then sends the kit the deauthorization POST.
  Result<void> uninstall_oldest() {
    if (uninstalled_ == installed_.size()) return Error(ErrorCode::kNotFound, "no install left");
    const Installed& oldest = installed_[uninstalled_];
    const std::string body = json::serialize(json::object{{"community_id", oldest.community_id},
                                                          {"admin_id", oldest.admin_id}});
    http::testing::RawConnection connection;
    if (!connection.connect(platform_.web_port())) return Error(ErrorCode::kUnavailable, "the emulator is gone");
    const auto response = connection.round_trip(
        "POST /_emulator/apps/" + std::string(kCrashTestAppId) + "/uninstall HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n\r\n" + body);
    if (!response || response->status != 200) {
      return Error(ErrorCode::kUnavailable, "uninstall answered " + std::to_string(response ? response->status : 0) +
                                                (response ? ": " + response->body : ""));
    }
    ++uninstalled_;
    return ok_result();
  }

  std::size_t installs() const noexcept { return installed_.size(); }
  std::size_t uninstalls() const noexcept { return uninstalled_; }

  // Waits up to `limit` until the kit has revoked every uninstalled community, keeps every other
  // install active and has no purge left to run; returns a description of what is not so yet, or "".
  Result<std::string> wait_until_settled(std::chrono::seconds limit) const {
    const Clock::time_point give_up_at = Clock::now() + limit;
    for (;;) {
      Result<std::string> unsettled = describe_unsettled();
      if (!unsettled || unsettled->empty() || Clock::now() >= give_up_at) return unsettled;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }

 private:
  struct Installed {
    std::string community_id;
    std::string admin_id;
  };

  Result<std::string> describe_unsettled() const {
    auto summaries = kit_store_.list_installations();
    if (!summaries) return summaries.error();
    std::string unsettled;
    for (std::size_t i = 0; i < installed_.size(); ++i) {
      const auto found =
          std::ranges::find(*summaries, installed_[i].community_id, &store::InstallationSummary::community_id);
      const bool active = found != summaries->end() && found->state == store::InstallState::kActive;
      if (active == (i < uninstalled_)) {
        unsettled += " community " + installed_[i].community_id + (active ? " still active;" : " not active;");
      }
    }
    for (const store::PurgeState state : {store::PurgeState::kPending, store::PurgeState::kRunning}) {
      auto jobs = kit_store_.list_purge_jobs(state);
      if (!jobs) return jobs.error();
      if (!jobs->empty()) unsettled += " " + std::to_string(jobs->size()) + " purge jobs not done;";
    }
    return unsettled;
  }

  emulator::Emulator& platform_;
  store::Store& kit_store_;
  std::vector<Installed> installed_;
  std::size_t uninstalled_ = 0;
};

// Returns the events stored in the kit's inbox and not yet handled (pending or claimed), or -1 when
// the store did not answer.
std::int64_t backlog(store::Store& kit_store) {
  auto counts = kit_store.inbox_counts();
  if (!counts) return -1;
  std::int64_t pending = 0;
  for (const store::InboxCounts& community : *counts) pending += community.pending;
  return pending;
}

TEST(H10Soak, MemoryAndLatencyStayFlatAtHalfTheMaximumRate) {
  const Result<long> full_minutes = wik::testing::number_from_environment(kMinutesVariable, 0, 2, 600);
  ASSERT_THAT(full_minutes, IsOk());
  const bool full_size = *full_minutes > 0;
  const std::size_t intervals = full_size ? static_cast<std::size_t>(*full_minutes) : kQuickIntervals;
  const Clock::duration interval = full_size ? kFullInterval : kQuickInterval;

  wik::testing::TempDir dir;
  Result<std::unique_ptr<CrashTestBed>> bed = CrashTestBed::create(Engine::kSqlite, dir, kCommunities);
  ASSERT_THAT(bed, IsOk());
  const Secret& app_secret = (*bed)->app_secret();
  Result<std::unique_ptr<store::Store>> kit_store = (*bed)->open_store();
  ASSERT_THAT(kit_store, IsOk());

  IntegrationProcess integration(WIK_CRASH_INTEGRATION_PATH, (*bed)->write_config(), dir.path());
  Result<std::uint16_t> port = integration.start();
  ASSERT_THAT(port, IsOk()) << port.error().detail();
  const std::string kit_url = "http://127.0.0.1:" + std::to_string(*port);

  auto platform = emulator::Emulator::start({.graph_port = 0, .web_port = 0, .control_api = true});
  ASSERT_THAT(platform, IsOk());
  ASSERT_THAT((*platform)->state().register_app({.id = kCrashTestAppId,
                                                 .secret = std::string(app_secret.expose()),
                                                 .name = "Crash test",
                                                 .publisher = "Example Ltd",
                                                 .redirect_url = kit_url + "/workplace/install",
                                                 .deauthorize_url = kit_url + "/workplace/deauthorize",
                                                 .permissions = {"message"}}),
              IsOk());
  InstallChurn churn(**platform, **kit_store);
  ASSERT_THAT(churn.install(), IsOk());  // the first interval's uninstall removes it

  LoadRecord record(intervals);
  const double maximum_rate =
      measure_maximum_rate(record, *port, app_secret, full_size ? kFullProbe : kQuickProbe);
  ASSERT_GT(maximum_rate, 0) << integration.latest_log();
  const double rate = maximum_rate / 2;
  const auto probe_left = (*bed)->wait_until_handled(kDrainLimit);
  ASSERT_THAT(probe_left, IsOk());
  std::printf("H10 max rate: %s/s closed-loop over %d connections; the soak posts %s/s\n",
              fixed(maximum_rate).c_str(), kClients, fixed(rate).c_str());
  std::fflush(stdout);

  const Clock::time_point start = Clock::now();
  const Clock::time_point until = start + interval * intervals;
  MemorySampler sampler(integration.pid());
  std::jthread load([&] { run_open_loop(record, *port, app_secret, rate, start, until, interval); });
  std::vector<double> p50s, p99s;
  std::vector<double> rss_mib, anonymous_mib;
  for (std::size_t i = 0; i < intervals; ++i) {
    std::this_thread::sleep_until(start + interval * i + interval / 2);
    EXPECT_THAT(churn.install(), IsOk());
    EXPECT_THAT(churn.uninstall_oldest(), IsOk());
    std::this_thread::sleep_until(start + interval * (i + 1));
    // The load's threads record an answer just after it came; a short grace lets the interval's last
    // ones in.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const std::vector<double> latencies = record.latencies_ms(i);
    p50s.push_back(quantile(latencies, 0.50));
    p99s.push_back(quantile(latencies, 0.99));
    const MemorySampler::Level memory = sampler.take_interval();
    rss_mib.push_back(memory.rss_mib);
    anonymous_mib.push_back(memory.anonymous_mib);
    std::printf("H10 interval %zu/%zu: requests=%zu, p50=%s ms, p99=%s ms, RSS=%s MiB (anonymous %s), backlog=%lld\n",
                i + 1, intervals, latencies.size(), fixed(p50s.back()).c_str(), fixed(p99s.back()).c_str(),
                fixed(rss_mib.back()).c_str(), fixed(anonymous_mib.back()).c_str(),
                static_cast<long long>(backlog(**kit_store)));
    std::fflush(stdout);
  }
  load.join();

  std::vector<LedgerEntry>& history = record.history();
  resend_unacknowledged(history, *port, app_secret, kDrainLimit);
  const auto inbox = (*bed)->wait_until_handled(kDrainLimit);
  ASSERT_THAT(inbox, IsOk());
  const Result<std::string> unsettled = churn.wait_until_settled(kDrainLimit);
  ASSERT_THAT(unsettled, IsOk());
  const Resident drained = resident_memory(integration.pid());
  integration.crash();

  const Result<std::vector<HandledRow>> rows = (*bed)->handled_rows();
  ASSERT_THAT(rows, IsOk());
  const HistoryReport report = wik::testing::check_history(history, *rows);
  const double rss_growth = 100.0 * (rss_mib.back() - rss_mib.front()) / std::max(rss_mib.front(), 0.001);
  const double p99_trend = p99s.back() / std::max(p99s.size() > 1 ? p99s[1] : p99s.front(), 0.001);
  const wik::testing::AttemptCounts attempts = wik::testing::count_attempts(history);
  std::printf("H10 soak: minutes=%zu, rate=%s/s (half of max %s/s), RSS growth=%s%% (<5%s), p50 per minute=%s, "
              "p99 per minute=%s, p99 last/second=%s, events=%zu, requests=%zu, non-2xx=%zu, unanswered=%zu, "
              "lost=%zu, dup=%zu, installs=%zu, uninstalls=%zu, backlog at end=%lld\n",
              intervals, fixed(rate).c_str(), fixed(maximum_rate).c_str(), fixed(rss_growth, 2).c_str(),
              full_size ? "" : ", not asserted in the quick run", bracketed(p50s).c_str(), bracketed(p99s).c_str(),
              fixed(p99_trend, 2).c_str(), report.sent, attempts.requests, attempts.rejected, attempts.unanswered,
              report.lost, report.duplicated, churn.installs(), churn.uninstalls(),
              static_cast<long long>(inbox->pending));
  std::printf("H10 RSS per minute (MiB, median of a sample a second): %s, after the drain %s; of it anonymous "
              "(heap, stacks): %s, after the drain %s\n",
              bracketed(rss_mib).c_str(), fixed(mebibytes(drained.rss_kib)).c_str(), bracketed(anonymous_mib).c_str(),
              fixed(mebibytes(drained.anonymous_kib)).c_str());
  std::fflush(stdout);

  EXPECT_GT(report.sent, 0u);
  EXPECT_EQ(report.acknowledged, report.sent)
      << "events never acknowledged:" << wik::testing::unacknowledged_events(history) << "\nthe integration's log:\n"
      << integration.latest_log();
  EXPECT_EQ(inbox->pending, 0) << "events still pending or claimed " << kDrainLimit.count() << " s after the load";
  EXPECT_EQ(inbox->dead_letters, 0) << "dead letters";
  EXPECT_EQ(report.lost, 0u) << "acknowledged events never handled";
  EXPECT_EQ(report.duplicated, 0u) << "events handled more than once";
  EXPECT_EQ(report.unexpected, 0u) << "handled rows of events nobody sent";
  EXPECT_EQ(churn.installs(), intervals + 1);
  EXPECT_EQ(churn.uninstalls(), intervals);
  EXPECT_EQ(*unsettled, "") << "installs and uninstalls not completed " << kDrainLimit.count() << " s after the load";
  if (full_size) {
    EXPECT_LT(rss_growth, kMaxRssGrowthPercent) << "RSS per interval (MiB): " << bracketed(rss_mib);
  }
}

}  // namespace
}  // namespace wik
