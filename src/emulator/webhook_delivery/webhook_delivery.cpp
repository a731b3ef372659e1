#include "emulator/webhook_delivery/webhook_delivery.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <spdlog/spdlog.h>

#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <random>
#include <utility>

#include "core/hub_signature.h"
#include "core/secure_random.h"
#include "core/signed_request.h"
#include "emulator/webhook_delivery/events.h"
#include "http/client/client.h"
#include "http/url.h"

namespace wik::emulator {

namespace asio = boost::asio;
namespace json = boost::json;
using boost::beast::http::verb;
using TimePoint = std::chrono::system_clock::time_point;

namespace {

constexpr std::string_view kUserAgent = "facebookplatform/1.0 (+http://developers.facebook.com)";
// The largest link preview answer read from an app.
constexpr std::size_t kMaxLinkResponseBytes = 1024 * 1024;

// One request that is retried until delivered or given up.
struct Outgoing {
  std::uint64_t id = 0;
  std::string kind;
  Id app_id;
  std::string url;
  std::string object;
  std::string body;
  boost::beast::http::fields headers;
  int attempts = 0;  // made so far
  TimePoint first_at;
  TimePoint due;
  TimePoint attempt_at;  // when the attempt in progress was started
};

// Items of one app and object waiting for the flush tick.
struct PendingBatch {
  std::string url;
  std::string secret;
  std::vector<events::EntryItem> items;
};

std::int64_t to_ms(TimePoint time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

bool is_success(unsigned status) { return status >= 200 && status < 300; }

std::string describe(const Error& error) {
  if (error.code() == ErrorCode::kTimeout) return "timeout";
  return error.detail().empty() ? error.reason() : error.reason() + ": " + error.detail();
}

// Fills in what one attempt came to: the status and whether it counts as delivered, or the error.
void record_outcome(DeliveryAttempt& logged, const Result<http::ClientResponse>& response) {
  if (response.ok()) {
    logged.status = response->status;
    logged.delivered = is_success(response->status);
    if (!logged.delivered) logged.error = "HTTP " + std::to_string(response->status);
  } else {
    logged.error = describe(response.error());
  }
}


std::optional<Subscription> subscription_for(PlatformState& state, const Id& app_id, std::string_view object,
                                             const std::string& field) {
  for (auto& subscription : state.subscriptions(app_id)) {
    if (subscription.object == object && subscription.fields.contains(field)) return std::move(subscription);
  }
  return std::nullopt;
}

boost::beast::http::fields signed_json_headers(const std::string& secret, std::string_view body) {
  HubSignatures signatures = sign_webhook_body(secret, body);
  boost::beast::http::fields headers;
  headers.set(boost::beast::http::field::content_type, "application/json");
  headers.set("X-Hub-Signature", std::move(signatures.sha1));
  headers.set("X-Hub-Signature-256", std::move(signatures.sha256));
  return headers;
}

http::ClientOptions client_options(std::chrono::milliseconds timeout, std::size_t max_body) {
  http::ClientOptions options;
  options.allow_plain_http = true;
  options.connect_timeout = timeout;
  options.read_timeout = timeout;
  options.total_timeout = timeout;
  options.max_response_body_bytes = max_body;
  options.user_agent = std::string(kUserAgent);
  return options;
}

std::unique_ptr<http::Client> make_client(std::chrono::milliseconds timeout, std::size_t max_body) {
  auto client = http::Client::create(client_options(timeout, max_body));
  if (!client.ok()) fatal("webhook delivery: cannot create the HTTP client: " + client.error().reason());
  return std::move(client).value();
}

void report_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("webhook delivery: task failed: {}", ex.what());
  }
}

// The shared state of a WebhookDelivery. Owned jointly by the WebhookDelivery and the coroutines
// it spawned, so a coroutine finishing after stop() touches nothing that is gone; after stop()
// no coroutine reads the PlatformState or its clock.
class Core {
 public:
  Core(asio::io_context& io, PlatformState& state, DeliveryOptions options)
      : io_(io),
        state_(state),
        options_(options),
        client_(make_client(options.timeout, http::ClientOptions{}.max_response_body_bytes)),
        link_client_(make_client(options.link_timeout, kMaxLinkResponseBytes)),
        random_(options.fault_seed != 0 ? options.fault_seed : std::random_device{}()) {}

  asio::io_context& io_;
  PlatformState& state_;
  const DeliveryOptions options_;
  const std::unique_ptr<http::Client> client_;
  const std::unique_ptr<http::Client> link_client_;

  mutable std::mutex mutex_;
  bool stopped_ = false;
  std::uint64_t next_id_ = 1;
  std::map<std::pair<Id, std::string>, PendingBatch> pending_;
  bool flush_scheduled_ = false;
  std::map<std::uint64_t, Outgoing> waiting_;  // failed deliveries awaiting their next attempt
  std::deque<DeliveryAttempt> log_;
  CallbackFaults default_faults_;
  std::map<Id, CallbackFaults> app_faults_;
  std::mt19937_64 random_;

  // REQUIRES: mutex_ held.
  void record_locked(DeliveryAttempt attempt) {
    log_.push_back(std::move(attempt));
    while (log_.size() > options_.log_capacity) log_.pop_front();
  }

  // Returns an Outgoing ready for its first attempt now. REQUIRES: mutex_ held, not stopped.
  Outgoing new_outgoing_locked(std::string kind, Id app_id, std::string url, std::string object) {
    Outgoing outgoing;
    outgoing.id = next_id_++;
    outgoing.kind = std::move(kind);
    outgoing.app_id = std::move(app_id);
    outgoing.url = std::move(url);
    outgoing.object = std::move(object);
    outgoing.first_at = state_.clock().now();
    outgoing.due = outgoing.first_at;
    outgoing.attempt_at = outgoing.first_at;
    return outgoing;
  }

  // Decides the faults of one attempt: the latency to add, and whether to refuse it.
  std::pair<std::chrono::milliseconds, bool> draw_faults(const Id& app_id) {
    const std::lock_guard lock(mutex_);
    const auto found = app_faults_.find(app_id);
    const CallbackFaults& faults = found == app_faults_.end() ? default_faults_ : found->second;
    const bool refuse =
        faults.refuse_rate > 0.0 && std::uniform_real_distribution<double>(0.0, 1.0)(random_) < faults.refuse_rate;
    return {faults.added_latency, refuse};
  }
};

// Sends `request` to an app's server after the faults of `app_id` were applied.
asio::awaitable<Result<http::ClientResponse>> send_with_faults(Core& core, http::Client& client, const Id& app_id,
                                                               http::ClientRequest request) {
  const auto [latency, refuse] = core.draw_faults(app_id);
  if (latency.count() > 0) {
    asio::steady_timer timer(co_await asio::this_coro::executor, latency);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (refuse) co_return Error(ErrorCode::kUnavailable, "refused (callback fault)");
  co_return co_await client.request(std::move(request));
}

// Makes one attempt of `outgoing`, logs it and schedules the next one if it failed.
asio::awaitable<void> attempt(std::shared_ptr<Core> core, Outgoing outgoing) {
  {
    const std::lock_guard lock(core->mutex_);
    if (core->stopped_) co_return;
  }
  http::ClientRequest request{.method = verb::post, .url = outgoing.url, .headers = outgoing.headers,
                              .body = outgoing.body};
  const Result<http::ClientResponse> response =
      co_await send_with_faults(*core, *core->client_, outgoing.app_id, std::move(request));

  const std::lock_guard lock(core->mutex_);
  if (core->stopped_) {
    core->client_->close_idle();  // the client may outlive the io_context; leave it no sockets
    co_return;
  }
  ++outgoing.attempts;
  DeliveryAttempt logged{.delivery_id = outgoing.id, .kind = outgoing.kind, .app_id = outgoing.app_id,
                         .url = outgoing.url, .object = outgoing.object, .body = outgoing.body,
                         .attempt = outgoing.attempts, .at_ms = to_ms(outgoing.attempt_at)};
  record_outcome(logged, response);
  const auto made = static_cast<std::size_t>(outgoing.attempts);
  logged.final = logged.delivered || made >= kRetrySchedule.size();
  if (!logged.final) {
    outgoing.due = outgoing.first_at + kRetrySchedule[made];
    core->waiting_.emplace(outgoing.id, std::move(outgoing));
  }
  core->record_locked(std::move(logged));
}

void spawn_attempts(const std::shared_ptr<Core>& core, std::vector<Outgoing> outgoing) {
  for (auto& one : outgoing) asio::co_spawn(core->io_, attempt(core, std::move(one)), report_exception);
}

// Turns every pending batch into POSTs of at most max_batch entries and starts them.
void flush(const std::shared_ptr<Core>& core) {
  std::vector<Outgoing> ready;
  {
    const std::lock_guard lock(core->mutex_);
    core->flush_scheduled_ = false;
    if (core->stopped_) return;
    const std::int64_t now_ms = to_ms(core->state_.clock().now());
    const std::size_t max_batch = std::max<std::size_t>(core->options_.max_batch, 1);
    for (auto& [key, batch] : std::exchange(core->pending_, {})) {
      for (std::size_t begin = 0; begin < batch.items.size(); begin += max_batch) {
        const auto first = batch.items.begin() + static_cast<std::ptrdiff_t>(begin);
        const auto last = batch.items.begin() + static_cast<std::ptrdiff_t>(std::min(begin + max_batch, batch.items.size()));
        Outgoing outgoing = core->new_outgoing_locked("event", key.first, batch.url, key.second);
        outgoing.body = events::serialize_ascii(events::envelope(key.second, {first, last}, now_ms));
        outgoing.headers = signed_json_headers(batch.secret, outgoing.body);
        ready.push_back(std::move(outgoing));
      }
    }
  }
  spawn_attempts(core, std::move(ready));
}

asio::awaitable<void> flush_after_tick(std::shared_ptr<Core> core) {
  asio::steady_timer timer(co_await asio::this_coro::executor, core->options_.flush_tick);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  flush(core);
}

void run_due(const std::shared_ptr<Core>& core) {
  std::vector<Outgoing> due;
  {
    const std::lock_guard lock(core->mutex_);
    if (core->stopped_) return;
    const TimePoint now = core->state_.clock().now();
    for (auto it = core->waiting_.begin(); it != core->waiting_.end();) {
      if (it->second.due <= now) {
        it->second.attempt_at = now;
        due.push_back(std::move(it->second));
        it = core->waiting_.erase(it);
      } else {
        ++it;
      }
    }
  }
  spawn_attempts(core, std::move(due));
}

asio::awaitable<void> retry_loop(std::shared_ptr<Core> core) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(kRetryLoopPeriod);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    {
      const std::lock_guard lock(core->mutex_);
      if (core->stopped_) co_return;
    }
    run_due(core);
  }
}

// Returns a fresh hub.challenge: ten random decimal digits.
std::string make_challenge() {
  const core::Bytes random = core::secure_random_bytes(10);
  std::string challenge;
  for (const char byte : random) challenge += static_cast<char>('0' + static_cast<unsigned char>(byte) % 10);
  if (challenge.front() == '0') challenge.front() = '1';
  return challenge;
}

// Makes a request that is not retried (verification, link), logs it and returns the response.
asio::awaitable<Result<http::ClientResponse>> send_once(std::shared_ptr<Core> core, http::Client& client,
                                                        std::string kind, Id app_id, std::string object,
                                                        http::ClientRequest request) {
  std::uint64_t id = 0;
  TimePoint started;
  {
    const std::lock_guard lock(core->mutex_);
    if (core->stopped_) co_return Error(ErrorCode::kUnavailable, "webhook delivery stopped");
    id = core->next_id_++;
    started = core->state_.clock().now();
  }
  DeliveryAttempt logged{.delivery_id = id, .kind = std::move(kind), .app_id = app_id, .url = request.url,
                         .object = std::move(object), .body = request.body, .at_ms = to_ms(started)};
  Result<http::ClientResponse> response = co_await send_with_faults(*core, client, app_id, std::move(request));
  record_outcome(logged, response);
  logged.final = true;
  const std::lock_guard lock(core->mutex_);
  if (!core->stopped_) core->record_locked(std::move(logged));
  co_return response;
}

}  // namespace

HubSignatures sign_webhook_body(const std::string& app_secret, std::string_view raw_body) {
  const Secret key(app_secret);
  return {.sha1 = core::sign_hub_signature(core::HubAlgorithm::kSha1, key, raw_body),
          .sha256 = core::sign_hub_signature(core::HubAlgorithm::kSha256, key, raw_body)};
}

// What the public object owns: its share of the Core.
class WebhookDelivery::Impl {
 public:
  explicit Impl(std::shared_ptr<Core> shared) : core(std::move(shared)) {}
  const std::shared_ptr<Core> core;
};

WebhookDelivery::WebhookDelivery(asio::io_context& io, PlatformState& state, DeliveryOptions options)
    : impl_(std::make_unique<Impl>(std::make_shared<Core>(io, state, options))) {
  asio::co_spawn(io, retry_loop(impl_->core), report_exception);
}

WebhookDelivery::~WebhookDelivery() { stop(); }

const DeliveryOptions& WebhookDelivery::options() const noexcept { return impl_->core->options_; }

void WebhookDelivery::publish(const Id& app_id, const std::string& object, const std::string& field,
                              const Id& entry_id, json::value item) {
  Core& delivery = *impl_->core;
  const auto app = delivery.state_.app(app_id);
  if (!app) return;
  const auto subscription = subscription_for(delivery.state_, app_id, object, field);
  if (!subscription) return;
  bool schedule = false;
  {
    const std::lock_guard lock(delivery.mutex_);
    if (delivery.stopped_) return;
    PendingBatch& batch = delivery.pending_[{app_id, object}];
    batch.url = subscription->callback_url;
    batch.secret = app->secret;
    batch.items.push_back({entry_id, field, std::move(item)});
    schedule = !std::exchange(delivery.flush_scheduled_, true);
  }
  if (schedule) asio::co_spawn(delivery.io_, flush_after_tick(impl_->core), report_exception);
}

void WebhookDelivery::deauthorize(const Install& removed, const Id& admin_platform_id) {
  Core& delivery = *impl_->core;
  const auto app = delivery.state_.app(removed.app_id);
  if (!app || app->deauthorize_url.empty()) return;
  const json::object payload{{"algorithm", "HMAC-SHA256"},
                             {"issued_at", delivery.state_.clock().unix_seconds()},
                             {"community_id", removed.community_id},
                             {"user_id", delivery.state_.scoped_user_id(removed.app_id, admin_platform_id)}};
  const std::string signed_request = core::create_signed_request(
      payload, Secret(app->secret),
      delivery.options_.raw_signed_request ? core::SignatureEncoding::kRawDigest : core::SignatureEncoding::kHexDigest);
  std::vector<Outgoing> ready;
  {
    const std::lock_guard lock(delivery.mutex_);
    if (delivery.stopped_) return;
    Outgoing outgoing = delivery.new_outgoing_locked("deauthorize", removed.app_id, app->deauthorize_url, "");
    outgoing.body = "signed_request=" + http::percent_encode(signed_request);
    outgoing.headers.set(boost::beast::http::field::content_type, "application/x-www-form-urlencoded");
    ready.push_back(std::move(outgoing));
  }
  spawn_attempts(impl_->core, std::move(ready));
}

asio::awaitable<Result<void>> WebhookDelivery::verify(const Id& app_id, const Subscription& subscription) {
  const std::shared_ptr<Core> shared = impl_->core;
  const std::string challenge = make_challenge();
  std::string url = subscription.callback_url;
  url += url.find('?') == std::string::npos ? '?' : '&';
  url += "hub.mode=subscribe&hub.challenge=" + challenge + "&hub.verify_token=" + http::percent_encode(subscription.verify_token);
  // Arguments are named locals: g++ 12 mishandles temporaries in a co_await expression.
  http::ClientRequest request{.method = verb::get, .url = std::move(url)};
  std::string kind = "verification";
  std::string object;
  const Result<http::ClientResponse> response =
      co_await send_once(shared, *shared->client_, std::move(kind), app_id, std::move(object), std::move(request));
  if (!response.ok()) {
    co_return Error(ErrorCode::kPermissionDenied, "callback verification failed: " + describe(response.error()));
  }
  if (!is_success(response->status)) {
    co_return Error(ErrorCode::kPermissionDenied,
                    "callback verification failed: the callback answered HTTP " + std::to_string(response->status));
  }
  if (response->body != challenge) {
    co_return Error(ErrorCode::kPermissionDenied,
                    "callback verification failed: the response body was not the hub.challenge value");
  }
  co_return ok_result();
}

asio::awaitable<Result<json::value>> WebhookDelivery::request_link(const Id& app_id, const std::string& field,
                                                                   json::value value) {
  const std::shared_ptr<Core> shared = impl_->core;
  const auto app = shared->state_.app(app_id);
  if (!app) co_return Error(ErrorCode::kNotFound, "unknown app");
  const auto subscription = subscription_for(shared->state_, app_id, "link", field);
  if (!subscription) co_return Error(ErrorCode::kNotFound, "the app is not subscribed to link/" + field);
  const std::int64_t now_ms = to_ms(shared->state_.clock().now());
  http::ClientRequest request{.method = verb::post, .url = subscription->callback_url};
  request.body = events::serialize_ascii(events::envelope("link", {{app_id, field, std::move(value)}}, now_ms));
  request.headers = signed_json_headers(app->secret, request.body);
  std::string kind = "link";
  std::string object = "link";
  const Result<http::ClientResponse> response =
      co_await send_once(shared, *shared->link_client_, std::move(kind), app_id, std::move(object), std::move(request));
  if (!response.ok()) {
    if (response.error().code() == ErrorCode::kTimeout) {
      co_return Error(ErrorCode::kTimeout, "the app did not answer the link request in time");
    }
    co_return Error(ErrorCode::kUnavailable, "the app could not be reached: " + describe(response.error()));
  }
  if (!is_success(response->status)) {
    co_return Error(ErrorCode::kUnavailable, "the app answered HTTP " + std::to_string(response->status));
  }
  boost::system::error_code ec;
  json::value answer = json::parse(response->body, ec);
  if (ec || !answer.is_object()) co_return Error(ErrorCode::kMalformed, "the app's answer is not a JSON object");
  co_return answer;
}

void WebhookDelivery::set_faults(const std::optional<Id>& app_id, CallbackFaults faults) {
  Core& delivery = *impl_->core;
  const std::lock_guard lock(delivery.mutex_);
  if (app_id) {
    delivery.app_faults_[*app_id] = faults;
  } else {
    delivery.default_faults_ = faults;
  }
}

std::vector<DeliveryAttempt> WebhookDelivery::log(const std::optional<Id>& app_id) const {
  Core& delivery = *impl_->core;
  const std::lock_guard lock(delivery.mutex_);
  std::vector<DeliveryAttempt> attempts;
  for (const auto& attempt : delivery.log_) {
    if (!app_id || attempt.app_id == *app_id) attempts.push_back(attempt);
  }
  return attempts;
}

void WebhookDelivery::run_due_retries() { run_due(impl_->core); }

void WebhookDelivery::stop() {
  Core& delivery = *impl_->core;
  const std::lock_guard lock(delivery.mutex_);
  if (delivery.stopped_) return;
  delivery.stopped_ = true;
  for (const auto& [id, waiting] : delivery.waiting_) {
    for (auto it = delivery.log_.rbegin(); it != delivery.log_.rend(); ++it) {
      if (it->delivery_id != id) continue;
      it->final = true;
      it->error = "abandoned after " + it->error;
      break;
    }
  }
  delivery.waiting_.clear();
  delivery.pending_.clear();
  delivery.client_->close_idle();
  delivery.link_client_->close_idle();
}

}  // namespace wik::emulator
