// crash_integration: the integration the kill -9 test (H1, docs/RELIABILITY.md) kills and restarts.
//
// A real wik::App, configured as `wik serve` is: the file in $WIK_CONFIG, then the WIK_* variables.
// Its message handler records each handling of a chat message as one row of its own table
// `handled_messages` (the community and the message's mid). The table has no unique key, so a
// message handled twice shows as two rows. Prints "crash integration: listening on port N" once it
// serves, then serves until SIGTERM or SIGINT.
#include <wik/app.h>

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <functional>
#include <string>

namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS handled_messages (community_id TEXT NOT NULL, mid TEXT NOT NULL)";

// Records one handling of the message `mid` in the transaction `tx`.
wik::Result<void> record_handled(wik::DataTransaction& tx, const std::string& mid) {
  auto inserted = tx.execute("INSERT INTO handled_messages (community_id, mid) VALUES ($1, $2)", {mid});
  if (!inserted.ok()) return inserted.error();
  return wik::ok_result();
}

// Records the handling of `message` in the transaction that marks its event handled
// (Context::commit_with_event): a life killed before that commit leaves no row, so each message is
// recorded exactly once however often its handler runs.
boost::asio::awaitable<wik::Result<void>> on_message(wik::Context& context, const wik::Message& message) {
  std::function<wik::Result<void>(wik::DataTransaction&)> record = [mid = message.mid](wik::DataTransaction& tx) {
    return record_handled(tx, mid);
  };
  co_return context.commit_with_event(std::move(record));
}

}  // namespace

int main() {
  // Blocked before the App starts its threads, so that they inherit the mask and sigwait() below
  // is the one place these signals arrive.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto config = wik::load_config();
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().reason().c_str());
    return 2;
  }
  wik::App app(*config);
  app.name("Crash test").on_message(on_message);
  app.schema(kSchema).register_table("handled_messages", "community_id");
  if (auto started = app.start(); !started) {
    std::fprintf(stderr, "%s\n", started.error().reason().c_str());
    return 1;
  }
  std::printf("crash integration: listening on port %u\n", static_cast<unsigned>(app.port()));
  std::fflush(stdout);
  int received = 0;
  sigwait(&stop_signals, &received);
  app.stop();
  return 0;
}
