// WebhookDelivery: how the emulated platform calls an app's servers (PROTOCOL.md §5, §6, §7).
//
// Three kinds of outgoing request, all over wik's HTTP client to the URLs the app registered:
//  - event deliveries: POST {callback_url} with a JSON body serialised with \uXXXX escapes for every
//    non-ASCII character, signed over those exact bytes with X-Hub-Signature-256 (sha256=) and
//    X-Hub-Signature (sha1=), keyed with the app secret; events of one app and object that are queued
//    together are batched into one POST (up to max_batch entries); a non-2xx answer, a connection
//    error or a timeout is retried on the schedule of PROTOCOL.md §6.3 (0 s, 15 s, 1 min, 5 min,
//    30 min, 2 h, 6 h, 18 h, 36 h; then dropped), measured on the platform clock;
//  - the deauthorization POST (form field signed_request, hex-form signature by default) on
//    uninstall, retried on the same schedule;
//  - the subscription verification GET (hub.mode/hub.challenge/hub.verify_token), awaited by the
//    caller: success only when the body is exactly the challenge.
// Synchronous `link` deliveries (preview/collection) are sent at once and their response body is
// returned to the caller instead of being retried.
//
// Every attempt is recorded in a bounded delivery log (the control API reads it). Faults set in
// CallbackFaults make the emulator treat a callback as slow or refusing, for tests of the kit's
// retry handling. Thread-safe; runs its own retry loop on the io_context it is given, which must
// outlive it; stop() cancels pending retries (they stay in the log as abandoned).
#pragma once

#include <wik/result.h>

#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "emulator/state/platform_state.h"

namespace wik::emulator {

// When the attempts of one delivery are made, counted from the first (PROTOCOL.md §6.3 emulator
// choice): attempt n+1 is due kRetrySchedule[n] after the first attempt; after the last it is dropped.
inline constexpr std::array<std::chrono::seconds, 9> kRetrySchedule = {
    std::chrono::seconds(0),     std::chrono::seconds(15),    std::chrono::minutes(1),
    std::chrono::minutes(5),     std::chrono::minutes(30),    std::chrono::hours(2),
    std::chrono::hours(6),       std::chrono::hours(18),      std::chrono::hours(36)};

// How long items published together wait for each other before they leave as one POST (real
// time), by default.
inline constexpr std::chrono::milliseconds kFlushTick{20};
// The longest the retry loop sleeps (real time) between looks at the platform clock.
inline constexpr std::chrono::milliseconds kRetryLoopPeriod{250};

struct DeliveryOptions {
  std::chrono::milliseconds timeout = std::chrono::seconds(10);  // per attempt (PROTOCOL.md §6.3)
  std::chrono::milliseconds link_timeout = std::chrono::seconds(5);
  std::size_t max_batch = 1000;          // entries per POST (0 counts as 1)
  // How long queued items wait for more before they leave as one POST; 0: only items published
  // together (latency benchmarks measure the app, not this wait).
  std::chrono::milliseconds flush_tick = kFlushTick;
  std::size_t log_capacity = 10000;      // attempts remembered
  bool raw_signed_request = false;       // send the classic raw-digest form instead of the hex form
  bool community_id_as_string = false;   // chat webhooks carry sender.community.id as a number by default
  std::uint64_t fault_seed = 0;          // seeds CallbackFaults::refuse_rate draws; 0: a random seed
};

// One attempt to reach an app's server.
struct DeliveryAttempt {
  std::uint64_t delivery_id = 0;  // same across the retries of one delivery
  std::string kind;               // "event" | "deauthorize" | "verification" | "link"
  Id app_id;
  std::string url;
  std::string object;             // webhook object, or "" for deauthorize/verification
  std::string body;               // what was sent
  int attempt = 1;
  std::int64_t at_ms = 0;         // platform clock
  unsigned status = 0;            // 0 when no HTTP answer arrived
  std::string error;              // "timeout", "connection refused", … or ""
  bool delivered = false;
  bool final = false;             // no further retry will follow (delivered or given up)
};

// Set through the control API: how the emulator treats callbacks of one app (or of every app).
struct CallbackFaults {
  std::chrono::milliseconds added_latency{0};  // wait before sending
  double refuse_rate = 0.0;                    // fraction of attempts failed without sending
};

// The two signature header values of a webhook body (PROTOCOL.md §6.2).
struct HubSignatures {
  std::string sha1;    // X-Hub-Signature: "sha1=<hex>"
  std::string sha256;  // X-Hub-Signature-256: "sha256=<hex>"
};

// Returns the signature headers of `raw_body` keyed with `app_secret`: what every event and link
// request carries.
HubSignatures sign_webhook_body(const std::string& app_secret, std::string_view raw_body);

class WebhookDelivery {
 public:
  WebhookDelivery(boost::asio::io_context& io, PlatformState& state, DeliveryOptions options = {});
  ~WebhookDelivery();

  // Queues one change or messaging item for `app_id` when that app is subscribed to
  // `object`/`field` (otherwise nothing is sent). `entry_id` and `item` are the entry id and the
  // item as that app sees them (events.h builds them per app, since user ids are app-scoped):
  // for chat fields (events::is_messaging_field) the `messaging[]` item, otherwise the change's
  // `value`, which is wrapped as {"field": field, "value": item}. Each item becomes one entry.
  void publish(const Id& app_id, const std::string& object, const std::string& field, const Id& entry_id,
               boost::json::value item);

  // Sends the deauthorization POST for a removed install (retried until delivered or given up).
  void deauthorize(const Install& removed, const Id& admin_platform_id);

  // Performs the verification GET against `subscription.callback_url`; ok only when the callback
  // answered 2xx with exactly the challenge. kPermissionDenied otherwise, with a reason naming what
  // was wrong (status, body mismatch, timeout).
  boost::asio::awaitable<Result<void>> verify(const Id& app_id, const Subscription& subscription);

  // Sends a link preview/collection request and returns the app's JSON answer (the platform reads
  // the preview from the response body). kTimeout/kUnavailable/kMalformed on failure.
  boost::asio::awaitable<Result<boost::json::value>> request_link(const Id& app_id, const std::string& field,
                                                                  boost::json::value value);

  // Sets the faults of one app's callbacks, or the default of every app without its own when
  // `app_id` is nullopt. Faults apply to every kind of request.
  void set_faults(const std::optional<Id>& app_id, CallbackFaults faults);
  const DeliveryOptions& options() const noexcept;
  // Returns the log, oldest first, optionally of one app.
  std::vector<DeliveryAttempt> log(const std::optional<Id>& app_id) const;
  // Retries due now (the retry loop also calls this; the control API calls it after advancing the clock).
  void run_due_retries();
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wik::emulator
