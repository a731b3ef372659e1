// crash_integration: the integration the process-fault tests (docs/RELIABILITY.md) kill and restart
// (H1), pause (H6) and stop with SIGTERM (H9).
//
// A real wik::App, configured as `wik serve` is: the file in $WIK_CONFIG, then the WIK_* variables.
// Its message handler records each handling of a chat message as one row of its own table
// `handled_messages` (the community, the message's mid, and when the handling committed: the
// machine's monotonic clock in nanoseconds, which every process of the host shares, so rows of
// several replicas order by it). The table has no unique key, so a message handled twice shows as
// two rows. Postbacks and group posts (H10) are recorded the same way, in the column `mid` under
// the postback's payload and the post's id. With --handler-delay-ms=N the handler first waits N ms
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
#include <cstdint>
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
    "CREATE TABLE IF NOT EXISTS handled_messages (community_id TEXT NOT NULL, mid TEXT NOT NULL, "
    "handled_at BIGINT NOT NULL)";

// Records one handling of the message `mid` in the transaction `tx`, as of now.
wik::Result<void> record_handled(wik::DataTransaction& tx, const std::string& mid) {
  const std::int64_t handled_at =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  auto inserted =
      tx.execute("INSERT INTO handled_messages (community_id, mid, handled_at) VALUES ($1, $2, $3)", {mid, handled_at});
  if (!inserted.ok()) return inserted.error();
  return wik::ok_result();
}

// Records the handling of the event whose key is `key` in the transaction that marks the event
// handled (Context::commit_with_event): a life killed before that commit leaves no row, so each
// event is recorded exactly once however often its handler runs.
boost::asio::awaitable<wik::Result<void>> record_event(wik::Context& context, std::string key) {
  if (handler_delay.count() > 0) {
    boost::asio::steady_timer delay(co_await boost::asio::this_coro::executor, handler_delay);
    co_await delay.async_wait(boost::asio::use_awaitable);
  }
  std::function<wik::Result<void>(wik::DataTransaction&)> record = [key](wik::DataTransaction& tx) {
    return record_handled(tx, key);
  };
  co_return context.commit_with_event(std::move(record));
}

boost::asio::awaitable<wik::Result<void>> on_message(wik::Context& context, const wik::Message& message) {
  auto recorded = record_event(context, message.mid);
  co_return co_await std::move(recorded);
}

boost::asio::awaitable<wik::Result<void>> on_postback(wik::Context& context, const wik::Postback& postback) {
  auto recorded = record_event(context, postback.payload);
  co_return co_await std::move(recorded);
}

boost::asio::awaitable<wik::Result<void>> on_group_post(wik::Context& context, const wik::GroupPost& post) {
  auto recorded = record_event(context, post.post_id);
  co_return co_await std::move(recorded);
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
  app.name("Crash test").on_message(on_message).on_postback(on_postback).on_group_post(on_group_post);
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
