// crash_integration: the integration the process-fault tests (docs/RELIABILITY.md) kill and restart
// (H1), pause (H6) and stop with SIGTERM (H9).
//
// A real wik::App, configured as `wik serve` is: the file in $WIK_CONFIG, then the WIK_* variables.
// Its message handler records each handling of a chat message as one row of its own table
// `handled_messages` (the community and the message's mid). The table has no unique key, so a
// message handled twice shows as two rows. With --handler-delay-ms=N the handler first waits N ms
// (a slow handler: claims are held while it runs). Prints "crash integration: listening on port N"
// once it serves, then serves until SIGTERM or SIGINT, stops gracefully (App::stop) and exits 0.
#include <wik/app.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <system_error>
#include <functional>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view kHandlerDelayFlag = "--handler-delay-ms=";

// How long the handler waits before it records; set once in main(), before the App starts.
std::chrono::milliseconds handler_delay{0};

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
  if (handler_delay.count() > 0) {
    boost::asio::steady_timer delay(co_await boost::asio::this_coro::executor, handler_delay);
    co_await delay.async_wait(boost::asio::use_awaitable);
  }
  std::function<wik::Result<void>(wik::DataTransaction&)> record = [mid = message.mid](wik::DataTransaction& tx) {
    return record_handled(tx, mid);
  };
  co_return context.commit_with_event(std::move(record));
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view argument = argv[i];
    long milliseconds = -1;
    if (argument.starts_with(kHandlerDelayFlag)) {
      argument.remove_prefix(kHandlerDelayFlag.size());
      const auto [end, error] = std::from_chars(argument.data(), argument.data() + argument.size(), milliseconds);
      if (error != std::errc() || end != argument.data() + argument.size()) milliseconds = -1;
    }
    if (milliseconds < 0 || milliseconds > 60000) {
      std::fprintf(stderr, "usage: crash_integration [--handler-delay-ms=0-60000]\n");
      return 2;
    }
    handler_delay = std::chrono::milliseconds(milliseconds);
  }
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
