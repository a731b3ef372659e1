// H3 (docs/RELIABILITY.md): I/O errors and a full disk, SQLite's anomaly testing on the running
// crash integration (crash_integration.cpp) on SQLite: a webhook is answered 2xx only once it is
// stored, an I/O error or a full disk never corrupts the database, and the integration recovers
// once the fault clears.
//
// I/O errors. For each point the integration starts on a fresh store and `strace -f -p` attaches
// to it (every thread) injecting EIO into one syscall SQLite does its I/O with — `fdatasync` (the
// sync of every commit), `pwrite64` (every page written) or `pread64` (every page read past the
// cache) — at the Nth call of each thread only
// (`when=N`, a transient fault) or at every call from the Nth on (`when=N+`, a persistent one)
// while senders (webhook_sender.h) post signed chat messages. Then strace detaches (the fault
// clears) and the same process must store new events again (recovered in place); it is stopped
// with SIGTERM and must exit rather than die of a signal; a second life starts without strace, the
// senders re-send every event not acknowledged until it is, and the test waits until the inbox is
// empty. The checker (history_checker.h) then requires every acknowledged event handled exactly
// once — an acknowledged event missing from the store would never be sent again, so it shows as
// lost: 2xx-without-store = lost — and `PRAGMA integrity_check` must say ok. The quick version runs
// a few points; WIK_H3_FULL=1 (scripts/reliability.sh) sweeps N = 1, 2, 3, … for each syscall and
// mode until a point's workload ends before its Nth call (nothing injected); WIK_H3_SYSCALLS
// (e.g. "pread64,fdatasync") limits the full sweep to those syscalls.
//
// Full disk. The integration runs in a mount namespace of its own (`unshare -m`) with its
// directory — configuration, secrets and database — copied onto a small tmpfs mounted over it.
// The test fills the tmpfs up to a little headroom, posts until the store answers 503, keeps it full
// a while (the integration must go on answering, every time 503 or 2xx), then deletes the filler
// and requires every event acknowledged and handled by the same process, nothing acknowledged
// lost and the database intact (checked on a copy taken while the integration is paused).
//
// Needs root (strace attaches to a process it did not start; mount in a namespace), strace and
// unshare; without them the tests fail saying so, unless WIK_H3_SKIP_UNPRIVILEGED=1 skips them.
// Prints one `H3 ioerr <syscall>:when=<N>[+]: …` line per point, the sum `H3 ioerr: points=…,
// …, 2xx-without-store=…, corrupt=…` and `H3 ENOSPC: …`. Every wait is bounded, and every child
// is killed whatever the outcome (strace detaches first; the integration dies with the test).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "reliability/crash_test_bed.h"
#include "reliability/history_checker.h"
#include "reliability/integration_process.h"
#include "reliability/webhook_sender.h"
#include "store/database.h"
#include "support/command.h"
#include "support/result_matchers.h"
#include "support/temp_dir.h"

extern char** environ;

namespace wik {
namespace {

using Clock = std::chrono::steady_clock;
using wik::testing::CrashTestBed;
using wik::testing::Engine;
using wik::testing::HandledRow;
using wik::testing::HistoryReport;
using wik::testing::IntegrationProcess;
using wik::testing::IsOk;
using wik::testing::LedgerEntry;
using wik::testing::SenderGroup;

constexpr const char* kSkipVariable = "WIK_H3_SKIP_UNPRIVILEGED";
constexpr const char* kFullSweepVariable = "WIK_H3_FULL";
constexpr const char* kSyscallsVariable = "WIK_H3_SYSCALLS";
constexpr const char* kWebhooksConfig = "[webhooks]\nlease_seconds = 2\n";
constexpr int kSenders = 2;
constexpr std::chrono::milliseconds kSendInterval{100};  // per sender: 20 new events a second in all
constexpr std::chrono::milliseconds kFaultWindow{1500};   // strace attached and injecting
constexpr std::chrono::milliseconds kRecoveryWindow{1000};  // detached, the same life still loaded
constexpr std::chrono::seconds kStopDeadline{15};
constexpr std::chrono::seconds kAcknowledgeLimit{60};
constexpr std::chrono::seconds kHandleLimit{30};
constexpr std::chrono::seconds kAttachLimit{10};
const std::vector<std::string> kCommunities = {"1861805427438701", "1861805427438702"};

constexpr const char* kStoredSeries = "webhook_events_total{outcome=\"stored\"}";
constexpr const char* kStoreErrorSeries = "webhook_rejected_total{reason=\"store_error\"}";
constexpr const char* kHandledSeries = "webhook_dispatch_total{outcome=\"handled\"}";

// The full-disk case: the tmpfs, and how much room the filler leaves.
constexpr const char* kTmpfsSize = "32m";
constexpr std::uintmax_t kHeadroomBytes = 1u << 20;
constexpr std::chrono::seconds kFullLimit{8};        // from the filler to the first 503
constexpr std::chrono::milliseconds kKeptFull{2000};  // full after the first 503, still loaded
constexpr std::chrono::milliseconds kLoadAfterFree{2000};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t count_occurrences(const std::string& text, std::string_view what) {
  std::size_t found = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++found;
  return found;
}

// Returns the absolute path of `program` on $PATH, or nothing.
std::optional<std::string> find_program(const std::string& program) {
  const wik::testing::CommandResult found = wik::testing::run_command("command -v " + program);
  if (found.exit_status != 0 || found.out.empty()) return std::nullopt;
  return found.out.substr(0, found.out.find('\n'));
}

// Returns why the H3 tests cannot run here, or nothing when they can.
std::optional<std::string> missing_prerequisite(const std::vector<std::string>& programs) {
  if (::geteuid() != 0) return "H3 needs root (ptrace of the integration, a tmpfs mount inside unshare -m)";
  for (const std::string& program : programs) {
    if (!find_program(program)) return "H3 needs " + program + " (scripts/setup.sh installs it)";
  }
  return std::nullopt;
}

bool skip_allowed() {
  const char* skip = std::getenv(kSkipVariable);
  return skip != nullptr && std::string_view(skip) == "1";
}

// Returns PRAGMA integrity_check's verdict on the bed's store: "ok", or what it found.
std::string integrity_of(const CrashTestBed& bed) {
  Result<std::unique_ptr<store::Database>> database = bed.open_database();
  if (!database) return "cannot open: " + database.error().reason();
  Result<store::Rows> rows = store::transact_value(**database, [](store::Transaction& tx) {
    return tx.query("PRAGMA integrity_check");
  });
  if (!rows) return "cannot check: " + rows.error().reason();
  std::string verdict;
  for (const store::Row& row : *rows) verdict += (verdict.empty() ? "" : "; ") + row.text(0);
  return verdict;
}

// strace attached to a running process (every thread, and the threads it starts), failing one
// syscall with EIO as `when` says. Detaching clears the fault: the process runs on untraced. The
// destructor detaches if clear() was not called.
class SyscallFault {
 public:
  // Attaches and waits until every thread of `pid` is traced. `dir` keeps strace's output.
  static Result<std::unique_ptr<SyscallFault>> attach(const std::string& strace, pid_t pid, const std::string& syscall,
                                                      const std::string& when, const std::filesystem::path& dir) {
    std::unique_ptr<SyscallFault> fault(new SyscallFault(dir));
    const std::vector<std::string> arguments = {
        strace, "-f", "-p", std::to_string(pid), "-o", fault->trace_.string(), "-e", "trace=" + syscall,
        "-e", "inject=" + syscall + ":error=EIO:when=" + when};
    std::vector<char*> argv;
    for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, fault->messages_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    const int spawned = ::posix_spawn(&fault->pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) return Error(ErrorCode::kUnavailable, "cannot start strace");

    const Clock::time_point give_up_at = Clock::now() + kAttachLimit;
    // strace says "Process N attached with M threads" once it traces them all.
    while (read_file(fault->messages_).find(" attached") == std::string::npos) {
      int status = 0;
      if (::waitpid(fault->pid_, &status, WNOHANG) == fault->pid_) {
        fault->pid_ = 0;
        return Error(ErrorCode::kUnavailable, "strace did not attach", read_file(fault->messages_));
      }
      if (Clock::now() >= give_up_at) return Error(ErrorCode::kTimeout, "strace did not attach in time");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return fault;
  }

  ~SyscallFault() { clear(); }
  SyscallFault(const SyscallFault&) = delete;
  SyscallFault& operator=(const SyscallFault&) = delete;

  // Detaches strace (SIGTERM) and returns how many calls it failed.
  std::size_t clear() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = 0;
    }
    return count_occurrences(read_file(trace_), "(INJECTED)");
  }

 private:
  explicit SyscallFault(const std::filesystem::path& dir)
      : trace_(dir / "strace.trace"), messages_(dir / "strace.log") {}

  std::filesystem::path trace_;     // the traced calls, the failed ones marked (INJECTED)
  std::filesystem::path messages_;  // strace's own messages ("Process N attached")
  pid_t pid_ = 0;
};

// One point of the I/O-error sweep.
struct FaultPoint {
  std::string syscall;
  int n = 1;
  bool persistent = false;  // when=N+ (every call from the Nth on) rather than when=N

  std::string when() const { return std::to_string(n) + (persistent ? "+" : ""); }
  std::string name() const { return syscall + ":when=" + when(); }
};

// What one point, or a sum of points, came to.
struct PointFigures {
  std::size_t points = 0;
  std::size_t injected = 0;        // calls failed with EIO
  std::size_t sent = 0;
  std::size_t acknowledged = 0;
  std::size_t server_errors = 0;   // 5xx answers (503: the store failed or did not answer)
  std::size_t other_rejections = 0;  // answers neither 2xx nor 5xx: must be 0
  std::size_t lost = 0;            // acknowledged, never stored or never handled: 2xx-without-store
  std::size_t duplicated = 0;
  std::size_t corrupt = 0;         // integrity_check not ok
  std::size_t recovered = 0;       // lives that stored new events after the fault cleared
  std::size_t exited = 0;          // lives that ended on their own during the fault (no signal)

  void add(const PointFigures& point) {
    points += point.points;
    injected += point.injected;
    sent += point.sent;
    acknowledged += point.acknowledged;
    server_errors += point.server_errors;
    other_rejections += point.other_rejections;
    lost += point.lost;
    duplicated += point.duplicated;
    corrupt += point.corrupt;
    recovered += point.recovered;
    exited += point.exited;
  }
};

std::string figures_text(const PointFigures& figures) {
  return "sent=" + std::to_string(figures.sent) + ", acked=" + std::to_string(figures.acknowledged) +
         ", 503=" + std::to_string(figures.server_errors) + ", other rejections=" +
         std::to_string(figures.other_rejections) + ", 2xx-without-store=" + std::to_string(figures.lost) +
         ", dup=" + std::to_string(figures.duplicated) + ", corrupt=" + std::to_string(figures.corrupt);
}

// Fills `figures` from a drained history, the handled rows and the store's integrity verdict.
void judge(const std::vector<LedgerEntry>& history, const std::vector<HandledRow>& rows, const std::string& integrity,
           PointFigures& figures) {
  const HistoryReport report = wik::testing::check_history(history, rows);
  const wik::testing::AttemptCounts attempts = wik::testing::count_attempts(history);
  figures.sent = report.sent;
  figures.acknowledged = report.acknowledged;
  figures.server_errors = attempts.server_errors;
  figures.other_rejections = attempts.rejected - attempts.server_errors;
  figures.lost = report.lost;
  figures.duplicated = report.duplicated;
  figures.corrupt = integrity == "ok" ? 0 : 1;
}

// Runs one point (see the file's opening comment) and returns its figures; a broken expectation
// fails the test with the point's name.
PointFigures run_point(const std::string& strace, const FaultPoint& point) {
  SCOPED_TRACE("H3 point " + point.name());
  PointFigures figures{.points = 1};
  wik::testing::TempDir dir;
  Result<std::unique_ptr<CrashTestBed>> bed = CrashTestBed::create(Engine::kSqlite, dir, kCommunities);
  EXPECT_THAT(bed, IsOk());
  if (!bed) return figures;
  IntegrationProcess integration(WIK_CRASH_INTEGRATION_PATH, (*bed)->write_config(kWebhooksConfig), dir.path());
  Result<std::uint16_t> port = integration.start();
  EXPECT_THAT(port, IsOk()) << port.error().detail();
  if (!port) return figures;

  Result<std::unique_ptr<SyscallFault>> fault =
      SyscallFault::attach(strace, integration.pid(), point.syscall, point.when(), dir.path());
  EXPECT_THAT(fault, IsOk()) << fault.error().detail();
  if (!fault) return figures;

  const Clock::time_point fault_until = Clock::now() + kFaultWindow;
  const Clock::time_point load_until = fault_until + kRecoveryWindow;
  SenderGroup senders(kSenders,
                      {.app_secret = (*bed)->app_secret(), .communities = kCommunities, .interval = kSendInterval},
                      {*port});
  senders.start(load_until, load_until + kAcknowledgeLimit);
  std::this_thread::sleep_until(fault_until);
  figures.injected = (*fault)->clear();
  const Result<std::uint64_t> stored_at_clear = wik::testing::scrape_metric(*port, kStoredSeries);
  std::this_thread::sleep_until(load_until);
  const Result<std::uint64_t> stored_later = wik::testing::scrape_metric(*port, kStoredSeries);
  if (stored_at_clear && stored_later && *stored_later > *stored_at_clear) figures.recovered = 1;
  if (!stored_at_clear) figures.exited = 1;

  // The first life must still run or have exited; a signal (a crash) fails the point.
  const Result<int> stopped = integration.terminate(kStopDeadline);
  EXPECT_THAT(stopped, IsOk()) << "the life under the fault did not stop cleanly: " << stopped.error().detail();
  Result<std::uint16_t> restarted = integration.start();
  EXPECT_THAT(restarted, IsOk()) << restarted.error().detail();
  if (!restarted) return figures;
  senders.join();
  const std::vector<LedgerEntry> history = senders.history();
  const Result<wik::testing::InboxLeft> inbox = (*bed)->wait_until_handled(kHandleLimit);
  integration.crash();
  EXPECT_THAT(inbox, IsOk());
  const Result<std::vector<HandledRow>> rows = (*bed)->handled_rows();
  EXPECT_THAT(rows, IsOk());
  if (!inbox || !rows) return figures;
  judge(history, *rows, integrity_of(**bed), figures);

  std::printf("H3 ioerr %s: injected=%zu, %s, recovered in place=%s%s\n", point.name().c_str(), figures.injected,
              figures_text(figures).c_str(), figures.recovered ? "yes" : "no",
              figures.exited ? " (exited under the fault)" : "");
  std::fflush(stdout);
  EXPECT_EQ(figures.acknowledged, figures.sent) << "events never acknowledged after the fault cleared:"
                                                << wik::testing::unacknowledged_events(history);
  EXPECT_EQ(figures.lost, 0u) << "events answered 2xx that never reached the store";
  EXPECT_EQ(figures.duplicated, 0u) << "events handled more than once";
  EXPECT_EQ(figures.other_rejections, 0u) << "answers other than 2xx or 5xx";
  EXPECT_EQ(figures.corrupt, 0u) << "PRAGMA integrity_check: " << integrity_of(**bed);
  EXPECT_EQ(inbox->pending, 0) << "events still pending after the drain";
  EXPECT_EQ(inbox->dead_letters, 0) << "dead letters";
  if (figures.injected > 0 && !figures.exited) {
    EXPECT_EQ(figures.recovered, 1u) << "the life stored nothing once the fault cleared (a wedged store)";
  }
  return figures;
}

// The syscalls the sweep fails: SQLite's sync of a commit, its page writes and its page reads.
const std::vector<std::string> kSyscalls = {"fdatasync", "pwrite64", "pread64"};

// Returns the syscalls of the full sweep: those of kSyscalls named in $WIK_H3_SYSCALLS (a comma-separated
// list), or all of them.
std::vector<std::string> swept_syscalls() {
  const char* named = std::getenv(kSyscallsVariable);
  if (named == nullptr || *named == '\0') return kSyscalls;
  const std::string list = "," + std::string(named) + ",";
  std::vector<std::string> chosen;
  for (const std::string& syscall : kSyscalls) {
    if (list.find("," + syscall + ",") != std::string::npos) chosen.push_back(syscall);
  }
  return chosen;
}

// The points of the quick version: each syscall, transient and persistent, early in the load.
std::vector<FaultPoint> quick_points() {
  return {{"fdatasync", 2, false}, {"fdatasync", 3, true}, {"pwrite64", 8, false},
          {"pwrite64", 8, true},   {"pread64", 1, false},  {"pread64", 2, true}};
}

TEST(H3DiskFaults, IoErrorsNeverAcknowledgeAnUnstoredEventNorCorruptTheStore) {
  if (const auto missing = missing_prerequisite({"strace"})) {
    if (skip_allowed()) GTEST_SKIP() << *missing << " (skipped: " << kSkipVariable << "=1)";
    FAIL() << *missing << "; set " << kSkipVariable << "=1 to skip";
  }
  const std::string strace = *find_program("strace");
  const char* full = std::getenv(kFullSweepVariable);
  PointFigures total;
  if (full != nullptr && std::string_view(full) == "1") {
    for (const std::string& syscall : swept_syscalls()) {
      for (const bool persistent : {false, true}) {
        // Up to the first N that no thread reaches within the fault window (the workload completed
        // before call N), or the first failure.
        for (int n = 1;; ++n) {
          const PointFigures point = run_point(strace, {syscall, n, persistent});
          total.add(point);
          if (point.injected == 0 || ::testing::Test::HasFailure()) break;
        }
      }
    }
  } else {
    for (const FaultPoint& point : quick_points()) total.add(run_point(strace, point));
  }
  std::printf("H3 ioerr: points=%zu, injected=%zu, %s, recovered in place=%zu, exited under the fault=%zu\n",
              total.points, total.injected, figures_text(total).c_str(), total.recovered, total.exited);
  std::fflush(stdout);
  EXPECT_GT(total.injected, 0u) << "no point injected a fault: the test tested nothing";
}


// Waits until the metric `series` of the integration on `port` reaches `minimum`, up to `limit`;
// returns its value then, or kTimeout / kUnavailable.
Result<std::uint64_t> wait_for_metric(std::uint16_t port, const char* series, std::uint64_t minimum,
                                      std::chrono::milliseconds limit) {
  const Clock::time_point give_up_at = Clock::now() + limit;
  for (;;) {
    Result<std::uint64_t> value = wik::testing::scrape_metric(port, series);
    if (!value) return value.error();
    if (*value >= minimum) return *value;
    if (Clock::now() >= give_up_at) return Error(ErrorCode::kTimeout, std::string(series) + " stayed at " +
                                                                          std::to_string(*value));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Fills the file system of `directory` up to kHeadroomBytes with the file `filler`.
Result<void> fill(const std::filesystem::path& directory, const std::filesystem::path& filler) {
  struct statvfs disk {};
  if (::statvfs(directory.c_str(), &disk) != 0) return Error(ErrorCode::kUnavailable, "statvfs failed");
  const std::uintmax_t free_bytes = static_cast<std::uintmax_t>(disk.f_bavail) * disk.f_frsize;
  if (free_bytes <= kHeadroomBytes) return ok_result();
  const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return Error(ErrorCode::kUnavailable, "cannot create the filler");
  const int allocated = ::posix_fallocate(fd, 0, static_cast<off_t>(free_bytes - kHeadroomBytes));
  ::close(fd);
  if (allocated != 0) return Error(ErrorCode::kUnavailable, "cannot allocate the filler");
  return ok_result();
}

TEST(H3DiskFaults, AFullDiskAnswers503AndRecoversOnceSpaceIsFreed) {
  if (const auto missing = missing_prerequisite({"unshare", "mount", "cp"})) {
    if (skip_allowed()) GTEST_SKIP() << *missing << " (skipped: " << kSkipVariable << "=1)";
    FAIL() << *missing << "; set " << kSkipVariable << "=1 to skip";
  }
  using wik::testing::shell_quote;
  wik::testing::TempDir dir;   // the integration's files, copied onto the tmpfs mounted over it
  wik::testing::TempDir logs;  // outside it: the test reads the lives' logs
  Result<std::unique_ptr<CrashTestBed>> bed = CrashTestBed::create(Engine::kSqlite, dir, kCommunities);
  ASSERT_THAT(bed, IsOk());
  const std::string directory = dir.path().string();
  // The shell keeps the directory's own inode as its working directory, so `cp -a .` copies the
  // files from under the tmpfs onto it.
  const std::string script = "cd " + shell_quote(directory) + " && " + *find_program("mount") +
                             " -t tmpfs -o size=" + kTmpfsSize + ",mode=0700 wik-h3 " + shell_quote(directory) +
                             " && " + *find_program("cp") + " -a . " + shell_quote(directory + "/") + " && exec " +
                             shell_quote(WIK_CRASH_INTEGRATION_PATH);
  IntegrationProcess integration(*find_program("unshare"), (*bed)->write_config(kWebhooksConfig), logs.path(),
                                 {"--mount", "--propagation", "private", "/bin/sh", "-c", script});
  Result<std::uint16_t> port = integration.start();
  ASSERT_THAT(port, IsOk()) << port.error().detail();
  // The integration's view of its directory: the tmpfs, in its mount namespace.
  const std::filesystem::path disk = "/proc/" + std::to_string(integration.pid()) + "/root" + directory;
  struct statvfs mounted {};
  ASSERT_EQ(::statvfs(disk.c_str(), &mounted), 0);
  ASSERT_LT(static_cast<std::uintmax_t>(mounted.f_blocks) * mounted.f_frsize, std::uintmax_t{64} << 20)
      << "the store is not on the small tmpfs";
  ASSERT_THAT(fill(disk, disk / "filler"), IsOk());

  const Clock::time_point begun = Clock::now();
  const Clock::time_point load_until = begun + kFullLimit + kKeptFull + kLoadAfterFree;
  SenderGroup senders(kSenders * 2,
                      {.app_secret = (*bed)->app_secret(), .communities = kCommunities, .interval = kSendInterval},
                      {*port});
  senders.start(load_until, load_until + kAcknowledgeLimit);
  // Full: the first 503 for want of space.
  const Result<std::uint64_t> first_full = wait_for_metric(*port, kStoreErrorSeries, 1, kFullLimit);
  ASSERT_THAT(first_full, IsOk()) << "the store never reported the full disk: " << first_full.error().reason() << "\n"
                                  << integration.latest_log();
  const auto time_to_full = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - begun);
  std::this_thread::sleep_for(kKeptFull);
  const Result<std::uint64_t> full_errors = wik::testing::scrape_metric(*port, kStoreErrorSeries);
  ASSERT_THAT(full_errors, IsOk()) << "the integration stopped serving on a full disk:\n" << integration.latest_log();
  const Result<std::uint64_t> stored_while_full = wik::testing::scrape_metric(*port, kStoredSeries);
  ASSERT_THAT(stored_while_full, IsOk());
  // Free the space: the same life must store and handle again.
  std::filesystem::remove(disk / "filler");
  senders.join();
  const std::vector<LedgerEntry> history = senders.history();
  const Result<std::uint64_t> stored = wik::testing::scrape_metric(*port, kStoredSeries);
  ASSERT_THAT(stored, IsOk()) << integration.latest_log();
  const Result<std::uint64_t> handled = wait_for_metric(*port, kHandledSeries, *stored, kHandleLimit);
  EXPECT_THAT(handled, IsOk()) << "the events stored were not all handled in place";
  EXPECT_EQ(integration.lives(), 1) << "the integration was restarted";

  // A copy of the database as the paused life leaves it (what a kill -9 would leave), checked here.
  integration.pause();
  for (const std::string file : {"wik.db", "wik.db-wal"}) {
    std::filesystem::remove(dir.path() / file);
    if (std::filesystem::exists(disk / file)) std::filesystem::copy_file(disk / file, dir.path() / file);
  }
  std::filesystem::remove(dir.path() / "wik.db-shm");
  integration.crash();
  const Result<wik::testing::InboxLeft> inbox = (*bed)->wait_until_handled(std::chrono::seconds(0));
  ASSERT_THAT(inbox, IsOk());
  const Result<std::vector<HandledRow>> rows = (*bed)->handled_rows();
  ASSERT_THAT(rows, IsOk());
  PointFigures figures;
  judge(history, *rows, integrity_of(**bed), figures);
  std::printf("H3 ENOSPC: tmpfs=%s, time to full=%lld ms, store errors while full=%llu, stored when freed=%llu, "
              "at the end=%llu, %s, handled in place=%s, restarts=%d\n",
              kTmpfsSize, static_cast<long long>(time_to_full.count()),
              static_cast<unsigned long long>(*full_errors), static_cast<unsigned long long>(*stored_while_full),
              static_cast<unsigned long long>(*stored), figures_text(figures).c_str(), handled ? "yes" : "no",
              integration.lives() - 1);
  std::fflush(stdout);
  EXPECT_EQ(figures.acknowledged, figures.sent) << "events never acknowledged once space was freed:"
                                                << wik::testing::unacknowledged_events(history);
  EXPECT_GT(*stored, *stored_while_full) << "nothing was stored once space was freed";
  EXPECT_EQ(figures.lost, 0u) << "events answered 2xx that never reached the store";
  EXPECT_EQ(figures.duplicated, 0u) << "events handled more than once";
  EXPECT_EQ(figures.other_rejections, 0u) << "answers other than 2xx or 5xx";
  EXPECT_EQ(figures.corrupt, 0u) << "PRAGMA integrity_check: " << integrity_of(**bed);
  EXPECT_EQ(inbox->pending, 0) << "events still pending";
  EXPECT_EQ(inbox->dead_letters, 0) << "dead letters";
}

}  // namespace
}  // namespace wik
