#include "reliability/webhook_sender.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <deque>
#include <thread>

#include "core/hub_signature.h"
#include "http/raw_connection.h"

namespace wik::testing {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kPageId = "2035268540053170";

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string chat_message_delivery(const std::string& community_id, const std::string& sender_id,
                                  const std::string& mid, const std::string& text) {
  const std::int64_t now = unix_ms();
  const json::value item = {{"sender", {{"id", sender_id}, {"community", {{"id", std::stoll(community_id)}}}}},
                            {"recipient", {{"id", kPageId}}},
                            {"timestamp", now},
                            {"message", {{"mid", mid}, {"text", text}}}};
  return json::serialize(json::object{
      {"object", "page"},
      {"entry", json::array{json::object{{"id", kPageId}, {"time", now}, {"messaging", json::array{item}}}}}});
}

LedgerEntry WebhookSender::next_event() {
  const std::size_t sequence = ledger_.size();
  LedgerEntry entry;
  entry.community_id = options_.communities[sequence % options_.communities.size()];
  entry.sender = number_;
  entry.mid = "mid.$h1s" + std::to_string(number_) + "n" + std::to_string(sequence);
  const std::string body = chat_message_delivery(entry.community_id, "1000157827440" + std::to_string(number_),
                                                 entry.mid, "message " + std::to_string(sequence) + " of sender " +
                                                                std::to_string(number_));
  const std::string signature = core::sign_hub_signature(core::HubAlgorithm::kSha256, options_.app_secret, body);
  entry.request = "POST /workplace/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  "X-Hub-Signature-256: " + signature + "\r\nContent-Length: " + std::to_string(body.size()) +
                  "\r\nConnection: close\r\n\r\n" + body;
  return entry;
}

bool WebhookSender::attempt(LedgerEntry& entry) const {
  ++entry.attempts;
  http::testing::RawConnection connection;
  if (!connection.connect(options_.port)) {
    ++entry.refused;
    return false;
  }
  const auto response = connection.round_trip(entry.request, options_.answer_timeout);
  if (!response) {
    ++entry.indeterminate;
    return false;
  }
  entry.last_status = response->status;
  entry.acknowledged = response->status / 100 == 2;
  if (!entry.acknowledged) ++entry.rejected;
  if (response->status / 100 == 5) ++entry.server_errors;
  return entry.acknowledged;
}

void WebhookSender::run(std::stop_token stop, Clock::time_point load_until, Clock::time_point give_up_at) {
  struct Resend {
    std::size_t entry;
    Clock::time_point due;
  };
  std::deque<Resend> waiting;  // due times only grow, so the front is due first
  Clock::time_point next_new = Clock::now();
  while (!stop.stop_requested()) {
    const Clock::time_point now = Clock::now();
    if (now >= give_up_at) return;
    const bool loading = now < load_until;
    if (!loading && waiting.empty()) return;
    if (loading && now >= next_new) {
      ledger_.push_back(next_event());
      if (!attempt(ledger_.back())) waiting.push_back({ledger_.size() - 1, Clock::now() + options_.resend_delay});
      next_new += options_.interval;
      continue;
    }
    if (!waiting.empty() && now >= waiting.front().due) {
      const Resend resend = waiting.front();
      waiting.pop_front();
      if (!attempt(ledger_[resend.entry])) waiting.push_back({resend.entry, Clock::now() + options_.resend_delay});
      continue;
    }
    Clock::time_point wake = waiting.empty() ? next_new : std::min(next_new, waiting.front().due);
    if (!loading) wake = waiting.front().due;
    std::this_thread::sleep_until(std::min(wake, now + std::chrono::milliseconds(50)));
  }
}

AttemptCounts count_attempts(const std::vector<LedgerEntry>& history) {
  AttemptCounts counts;
  for (const LedgerEntry& event : history) {
    counts.requests += static_cast<std::size_t>(event.attempts);
    counts.acknowledged += event.acknowledged ? 1 : 0;  // the first 2xx ends an event's attempts
    counts.rejected += static_cast<std::size_t>(event.rejected);
    counts.server_errors += static_cast<std::size_t>(event.server_errors);
    counts.refused += static_cast<std::size_t>(event.refused);
    counts.unanswered += static_cast<std::size_t>(event.indeterminate);
  }
  return counts;
}

SenderGroup::SenderGroup(int senders, const SenderOptions& options, const std::vector<std::uint16_t>& ports) {
  for (int number = 0; number < senders; ++number) {
    SenderOptions own = options;
    own.port = ports[static_cast<std::size_t>(number) % ports.size()];
    senders_.push_back(std::make_unique<WebhookSender>(number, std::move(own)));
  }
}

SenderGroup::~SenderGroup() {
  for (std::jthread& thread : threads_) thread.request_stop();
  threads_.clear();
}

void SenderGroup::start(Clock::time_point load_until, Clock::time_point give_up_at) {
  for (auto& sender : senders_) {
    threads_.emplace_back([&sender = *sender, load_until, give_up_at](std::stop_token stop) {
      sender.run(stop, load_until, give_up_at);
    });
  }
}

void SenderGroup::join() {
  for (std::jthread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

std::vector<LedgerEntry> SenderGroup::history() const {
  std::vector<LedgerEntry> history;
  for (const auto& sender : senders_) history.insert(history.end(), sender->ledger().begin(), sender->ledger().end());
  return history;
}

}  // namespace wik::testing
