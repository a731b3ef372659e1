#include "webhooks/ingest.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <optional>

#include "core/constant_time.h"
#include "core/hub_signature.h"
#include "http/offload.h"
#include "http/server/message.h"

namespace wik::webhooks {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using boost::beast::http::verb;
using namespace boost::asio::experimental::awaitable_operators;

constexpr std::size_t kMaxChallengeLength = 128;

const core::SystemClock kSystemClock;

// Returns how many of options.app_secrets verify now: all of them, or only the first once the
// rotation has ended.
std::size_t secrets_accepted_now(const IngestOptions& options) {
  const core::Clock& clock = options.clock != nullptr ? *options.clock : kSystemClock;
  const bool rotation_over = options.previous_secrets_until && clock.now() >= *options.previous_secrets_until;
  return rotation_over ? 1 : options.app_secrets.size();
}

bool sane_challenge(std::string_view challenge) {
  return !challenge.empty() && challenge.size() <= kMaxChallengeLength &&
         std::all_of(challenge.begin(), challenge.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_' ||
                  c == '.';
         });
}

json::value empty_preview() { return json::object{{"data", json::array{}}}; }

// co_spawn (under ||) needs a default-constructible result; Result is not.
asio::awaitable<std::optional<Result<json::value>>> run_link_handler(LinkHandler handler, WebhookEvent event) {
  co_return co_await handler(event);
}

}  // namespace

// What storing one delivery came to.
struct WebhookIngest::Stored {
  std::size_t stored = 0;
  std::size_t duplicates = 0;
  std::size_t dropped = 0;
  std::optional<Error> failure;
};

WebhookIngest::WebhookIngest(store::Store& store, IngestOptions options, http::MetricsRegistry& metrics)
    : store_(store), options_(std::move(options)), metrics_(metrics), pool_(options_.store_threads) {
  if (options_.verify_token.empty()) fatal("WebhookIngest needs a verify token");
  if (options_.app_secrets.empty() || options_.app_secrets.front().empty()) fatal("WebhookIngest needs the app secret");
}

WebhookIngest::~WebhookIngest() {
  pool_.join();
  store_.wait_for_submitted_inbox_events();
}

void WebhookIngest::set_link_handler(LinkHandler handler) { link_handler_ = std::move(handler); }

void WebhookIngest::on_stored(std::function<void()> callback) { on_stored_ = std::move(callback); }

void WebhookIngest::add_routes(http::Router& router) {
  router.add(verb::get, options_.path, [this](http::Request& request) { return handshake(this, request); });
  router.add(verb::post, options_.path, [this](http::Request& request) { return receive(this, request); },
             {.max_body_bytes = options_.max_body_bytes});
}

void WebhookIngest::count_event(std::string_view outcome, std::size_t by) {
  if (by == 0) return;
  metrics_.counter("webhook_events_total", "Webhook events received, by outcome.", {{"outcome", std::string(outcome)}})
      .inc(by);
}

Error WebhookIngest::reject(std::string_view reason, Error error) {
  metrics_.counter("webhook_rejected_total", "Webhook deliveries refused, by reason.", {{"reason", std::string(reason)}})
      .inc();
  return error;
}

boost::asio::awaitable<Result<http::Response>> WebhookIngest::handshake(WebhookIngest* self, http::Request& request) {
  const auto mode = request.query("hub.mode");
  const auto token = request.query("hub.verify_token");
  const auto challenge = request.query("hub.challenge");
  const bool verified = mode == "subscribe" && token &&
                        core::constant_time_equal(*token, self->options_.verify_token.expose()) && challenge &&
                        sane_challenge(*challenge);
  if (!verified) {
    co_return self->reject("handshake", Error(ErrorCode::kPermissionDenied, "subscription verification refused"));
  }
  co_return http::Response::text(std::string(*challenge));
}

Result<void> WebhookIngest::check_signature(const http::Request& request) const {
  const core::HubSignatureHeaders headers{.sha256 = request.header("X-Hub-Signature-256"),
                                          .sha1 = request.header("X-Hub-Signature")};
  std::optional<Error> last;
  const std::size_t accepted = secrets_accepted_now(options_);
  for (std::size_t i = 0; i < accepted; ++i) {
    auto verified =
        core::verify_webhook_signature(headers, request.body(), options_.app_secrets[i], options_.accept_sha1);
    if (verified.ok()) return ok_result();
    last = verified.error();
    if (last->code() != ErrorCode::kBadSignature) break;  // missing or malformed: no secret helps
  }
  return Error(ErrorCode::kBadSignature, last->code() == ErrorCode::kUnauthenticated ? "the delivery is not signed"
                                                                                       : "the delivery's signature does not verify");
}

Result<std::optional<store::CommunityScope>> WebhookIngest::installed(const std::string& community_id) {
  using Found = std::optional<store::CommunityScope>;
  auto scope = store_.community(community_id);
  if (!scope.ok()) return Found();
  auto state = scope->install_state();
  if (!state.ok()) {
    if (state.error().code() == ErrorCode::kNotFound) return Found();
    return state.error();  // an I/O error or a busy store is no answer: never drop the event for it
  }
  if (*state != store::InstallState::kActive) return Found();
  return Found(std::move(*scope));
}

// A delivery on its way into the inbox: its events, and the scopes they name, kept until the
// store has answered for them.
struct WebhookIngest::Submission {
  std::map<std::string, store::CommunityScope> scopes;
  std::vector<store::ScopedInboxEvent> events;
  std::size_t dropped = 0;  // events whose community id no community can have
};

boost::asio::awaitable<std::optional<WebhookIngest::Stored>> WebhookIngest::store_events(const ParsedDelivery& delivery) {
  auto submission = std::make_shared<Submission>();
  for (const WebhookEvent& event : delivery.events) {
    auto scope = submission->scopes.find(event.community_id);
    if (scope == submission->scopes.end()) {
      auto made = store_.community(event.community_id);
      if (!made.ok()) {
        ++submission->dropped;
        continue;
      }
      scope = submission->scopes.emplace(event.community_id, std::move(*made)).first;
    }
    submission->events.push_back(
        {.community = &scope->second,
         .event = {.topic = event.object + "/" + event.field, .dedupe_key = event.dedupe_key, .payload = event.payload}});
  }
  std::function<void(http::Completion<Stored>)> start = [this, submission](http::Completion<Stored> complete) {
    store_.submit_inbox_events(submission->events, [submission, complete = std::move(complete)](
                                                       std::vector<Result<store::InsertOutcome>> outcomes) {
      Stored outcome{.dropped = submission->dropped};
      for (auto& result : outcomes) {
        if (result.ok()) {
          ++(*result == store::InsertOutcome::kStored ? outcome.stored : outcome.duplicates);
        } else if (result.error().code() == ErrorCode::kNotFound) {
          ++outcome.dropped;  // not installed, or no longer
        } else if (!outcome.failure) {
          outcome.failure = result.error();
        }
      }
      complete(std::move(outcome));
    });
  };
  co_return co_await http::await_completion<Stored>(std::move(start), options_.store_deadline);
}

boost::asio::awaitable<Result<http::Response>> WebhookIngest::answer_link(const WebhookEvent& event) {
  if (!link_handler_) co_return http::Response::json(empty_preview());
  std::function<bool()> check = [this, community = event.community_id] {
    auto scope = installed(community);
    return scope.ok() && scope->has_value();
  };
  const auto is_installed = co_await http::run_blocking<bool>(pool_, std::move(check), options_.link_deadline);
  if (!is_installed || !*is_installed) {
    count_event("dropped_not_installed");
    co_return http::Response::json(empty_preview());
  }
  asio::steady_timer deadline(co_await asio::this_coro::executor, options_.link_deadline);
  auto first = co_await (run_link_handler(link_handler_, event) ||
                         deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (first.index() == 0 && std::get<0>(first) && std::get<0>(first)->ok()) {
    count_event("link_answered");
    co_return http::Response::json(std::get<0>(first)->value());
  }
  count_event(first.index() == 0 ? "link_failed" : "link_timed_out");
  co_return http::Response::json(empty_preview());
}

boost::asio::awaitable<Result<http::Response>> WebhookIngest::receive(WebhookIngest* self, http::Request& request) {
  if (auto signed_ok = self->check_signature(request); !signed_ok.ok()) {
    co_return self->reject("bad_signature", signed_ok.error());
  }
  auto delivery = parse_webhook(request.body());
  if (!delivery.ok()) {
    co_return self->reject(delivery.error().code() == ErrorCode::kTooLarge ? "too_large" : "malformed",
                           delivery.error());
  }
  self->count_event("skipped_unknown", delivery->skipped_unknown);
  self->count_event("skipped_no_community", delivery->skipped_without_community);
  if (!delivery->events.empty() && delivery->events.front().object == "link") {
    co_return co_await self->answer_link(delivery->events.front());
  }

  auto stored = co_await self->store_events(*delivery);
  if (!stored) {
    co_return self->reject("store_timeout",
                           Error(ErrorCode::kUnavailable, "the events could not be stored in time; retry later"));
  }
  if (stored->failure) {
    spdlog::error("webhooks: storing a delivery failed: {}", stored->failure->detail().empty()
                                                               ? stored->failure->reason()
                                                               : stored->failure->detail());
    co_return self->reject("store_error", Error(ErrorCode::kUnavailable, "the events could not be stored; retry later"));
  }
  self->count_event("stored", stored->stored);
  if (stored->stored > 0 && self->on_stored_) self->on_stored_();
  self->count_event("duplicate", stored->duplicates);
  self->count_event("dropped_not_installed", stored->dropped);
  co_return http::Response::json(json::object{{"stored", stored->stored},
                                              {"duplicates", stored->duplicates},
                                              {"dropped", stored->dropped}});
}

}  // namespace wik::webhooks
