// WebhookSender: one platform sender of the kill -9 test (H1, docs/RELIABILITY.md), and the ledger
// it keeps of every attempt — the history the checker judges.
//
// An event is one chat message with a unique mid for one of the test's communities, posted alone
// to the integration's webhook callback and signed with X-Hub-Signature-256 over the exact bytes,
// as the platform posts it (PROTOCOL.md §6.2, §6.5). An attempt ends one of four ways:
//   acknowledged   a 2xx: the integration promises the event is durable;
//   rejected       another status: the integration answered that it did not take the event;
//   refused        no connection: no process was listening, so nothing was sent;
//   indeterminate  sent, then the connection closed or stayed silent without an answer (Jepsen's
//                  `info`): the process may have stored the event before it died.
// A sender re-sends every event that is not acknowledged, the same bytes, as the platform retries,
// until it is. A sender is a single client, one request at a time, driven by one thread;
// SenderGroup runs several, each on a thread of its own.
#pragma once

#include <wik/secret.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

namespace wik::testing {

struct LedgerEntry {
  std::string community_id;
  std::string mid;
  std::string request;  // the whole HTTP request, re-sent unchanged
  int attempts = 0;
  int refused = 0;
  int rejected = 0;
  int server_errors = 0;  // rejections with a 5xx
  int indeterminate = 0;
  unsigned last_status = 0;  // the status of the latest answer; 0 before any
  bool acknowledged = false;
  int sender = 0;  // the sender's number: its events come from one person, a conversation per community
};

struct SenderOptions {
  std::uint16_t port = 0;  // the integration's port on 127.0.0.1
  Secret app_secret;
  std::vector<std::string> communities;  // the sender's events go to each in turn. REQUIRES: not empty
  std::chrono::milliseconds interval{40};        // between two new events
  std::chrono::milliseconds resend_delay{100};   // from an attempt without a 2xx to the next one
  std::chrono::milliseconds answer_timeout{10000};  // longer than the integration's store deadline
};

class WebhookSender {
 public:
  // `number` makes the sender's mids and people its own.
  WebhookSender(int number, SenderOptions options) : number_(number), options_(std::move(options)) {}

  // Sends a new event every options.interval until `load_until`, and re-sends each one that is not
  // acknowledged resend_delay after its last attempt. Returns when every event is acknowledged
  // after `load_until`, when `give_up_at` passes, or when `stop` is requested.
  void run(std::stop_token stop, std::chrono::steady_clock::time_point load_until,
           std::chrono::steady_clock::time_point give_up_at);

  // The history. Read it only after run() returned.
  const std::vector<LedgerEntry>& ledger() const noexcept { return ledger_; }

 private:
  LedgerEntry next_event();
  // Makes one attempt of `entry` and records its outcome; returns true when it was acknowledged.
  bool attempt(LedgerEntry& entry) const;

  int number_;
  SenderOptions options_;
  std::vector<LedgerEntry> ledger_;
};

// What a history's attempts came to, over every event (H9 reports them).
struct AttemptCounts {
  std::size_t requests = 0;       // attempts
  std::size_t acknowledged = 0;   // answered 2xx
  std::size_t rejected = 0;       // answered another status
  std::size_t server_errors = 0;  // answered 5xx
  std::size_t refused = 0;        // no connection
  std::size_t unanswered = 0;     // sent, no answer (indeterminate)
};
AttemptCounts count_attempts(const std::vector<LedgerEntry>& history);

// Senders 0 … n-1, each on a thread of its own; sender i posts to ports[i % ports.size()]. The
// destructor stops the senders and joins their threads, so a failing test never leaves one running.
class SenderGroup {
 public:
  // REQUIRES: ports is not empty. `options.port` is ignored.
  SenderGroup(int senders, const SenderOptions& options, const std::vector<std::uint16_t>& ports);
  ~SenderGroup();
  SenderGroup(const SenderGroup&) = delete;
  SenderGroup& operator=(const SenderGroup&) = delete;

  // Starts every sender's run(load_until, give_up_at). REQUIRES: called once.
  void start(std::chrono::steady_clock::time_point load_until, std::chrono::steady_clock::time_point give_up_at);
  // Waits until every sender has returned (all acknowledged, or give_up_at).
  void join();
  // Every sender's ledger, one after another. REQUIRES: join() returned.
  std::vector<LedgerEntry> history() const;

 private:
  std::vector<std::unique_ptr<WebhookSender>> senders_;
  std::vector<std::jthread> threads_;  // after senders_: destroyed (stopped, joined) first
};

// Returns a page/messages delivery of one chat message (PROTOCOL.md §6.5, the community id as a
// JSON number as the platform sends it).
std::string chat_message_delivery(const std::string& community_id, const std::string& sender_id,
                                  const std::string& mid, const std::string& text);

}  // namespace wik::testing
