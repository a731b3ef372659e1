// WebhookIngest: the integration's webhook callback (PROTOCOL.md §6; DESIGN.md invariants 1, 4, 6, 7).
//
// GET is the subscription handshake: hub.mode=subscribe and hub.verify_token equal (in constant
// time) to the configured token → 200 with hub.challenge as plain text; anything else → 403.
//
// POST is a delivery. The signature over the raw body is checked first (X-Hub-Signature-256; the
// legacy SHA-1 header only when accept_sha1; during an app secret rotation the previous secret too,
// until previous_secrets_until on the options' clock, checked per request): missing or wrong → 403,
// nothing stored. The body is parsed (payload.h): invalid → 400, more than 1,000 events → 413.
// Each event is routed by its community id; events of communities that are not installed (or are
// revoked) are dropped and counted. The rest are stored in the inbox together, through one group
// commit, and only once every one of them is durable is the POST answered 200. When the store
// cannot commit within store_deadline, or fails, the answer is 503 so the platform retries
// (de-duplication absorbs a late success); nothing is acknowledged from memory.
//
// `link` deliveries (previews, collections) are answered inline: the platform reads the preview
// from this response (PROTOCOL.md §6.5). The registered LinkHandler runs under link_deadline; with
// no handler, an uninstalled community, a failure or a timeout, the answer is an empty preview.
//
// Counters (on the server's registry): webhook_events_total{outcome}, webhook_rejected_total{reason}.
// Thread-safe. No store call runs on an I/O thread: a delivery's events go to the store's group
// committer, which calls back once they are durable (no thread waits for each delivery), and the
// install check of a link request runs on a small thread pool of the ingest's own. Stop the server,
// then destroy the ingest (which joins its pool and waits for the deliveries still committing),
// then the server.
#pragma once

#include <wik/result.h>
#include <wik/secret.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "http/server/metrics.h"
#include "http/server/router.h"
#include "store/store.h"
#include "webhooks/payload.h"

namespace wik::webhooks {

struct IngestOptions {
  std::string path = "/workplace/webhook";
  Secret verify_token;
  std::vector<Secret> app_secrets;  // the current secret first, then any still accepted during a rotation
  // The end of a rotation: from then on only the first secret verifies. nullopt: no end.
  std::optional<std::chrono::system_clock::time_point> previous_secrets_until;
  const core::Clock* clock = nullptr;  // tells previous_secrets_until's time; nullptr: the system clock
  bool accept_sha1 = false;
  std::chrono::milliseconds store_deadline = std::chrono::seconds(5);
  std::chrono::milliseconds link_deadline = std::chrono::seconds(3);
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  std::size_t store_threads = 8;  // for the install checks of link requests
};

// Answers a link preview or collection request for one community; returns the response JSON
// ({"data": [...], "linked_user": ...}).
using LinkHandler = std::function<boost::asio::awaitable<Result<boost::json::value>>(const WebhookEvent&)>;

class WebhookIngest {
 public:
  // REQUIRES: a non-empty verify token and at least one non-empty app secret.
  WebhookIngest(store::Store& store, IngestOptions options, http::MetricsRegistry& metrics);
  ~WebhookIngest();
  WebhookIngest(const WebhookIngest&) = delete;
  WebhookIngest& operator=(const WebhookIngest&) = delete;

  // REQUIRES: called before the server starts.
  void set_link_handler(LinkHandler handler);
  // Calls `callback` after a delivery stored at least one new event (the dispatcher's notify()).
  // REQUIRES: called before the server starts.
  void on_stored(std::function<void()> callback);
  // Registers GET and POST options.path. REQUIRES: called before the server starts.
  void add_routes(http::Router& router);

 private:
  struct Stored;
  struct Submission;
  static boost::asio::awaitable<Result<http::Response>> handshake(WebhookIngest* self, http::Request& request);
  static boost::asio::awaitable<Result<http::Response>> receive(WebhookIngest* self, http::Request& request);
  boost::asio::awaitable<Result<http::Response>> answer_link(const WebhookEvent& event);
  Result<void> check_signature(const http::Request& request) const;
  // Stores the delivery's events through the group committer; nullopt when the store did not
  // answer within store_deadline.
  boost::asio::awaitable<std::optional<Stored>> store_events(const ParsedDelivery& delivery);
  // Returns the community's scope when the app is installed there (active), nullopt when it is not,
  // or the store's error when the store could not tell (the delivery must then be answered 503).
  Result<std::optional<store::CommunityScope>> installed(const std::string& community_id);
  void count_event(std::string_view outcome, std::size_t by = 1);
  Error reject(std::string_view reason, Error error);

  store::Store& store_;
  IngestOptions options_;
  http::MetricsRegistry& metrics_;
  LinkHandler link_handler_;
  std::function<void()> on_stored_;
  boost::asio::thread_pool pool_;
};

}  // namespace wik::webhooks
