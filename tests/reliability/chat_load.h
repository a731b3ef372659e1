// ChatLoadTest: people of several communities write to an echo bot through the emulator, and the
// test checks what the bot sent against what was written — the load and the checker shared by the
// platform-faults test (D2/D3) and the network-faults test (H5, docs/RELIABILITY.md).
//
// A wik::App runs in the test's process against the emulator on loopback (app/app_fixture.h); its
// message handler is echo_twice (two replies per message, "echo m<n> #1" and "#2"). write() sends
// message "m<n>" as a person and remembers its thread; read_ledger() reads what the emulator
// recorded as sent by the bot and counts, per expected reply: delivered (distinct), duplicates,
// order violations (per conversation, against the order in which the kit stored the messages:
// call read_arrivals() first), unexpected bot messages, and the platform-time latency from each
// message to the first recording of each of its replies. stuck_rows() counts what the App has not
// finished (outbox rows, inbox rows not done, dead letters).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/app_fixture.h"

namespace wik::testing {

inline constexpr int kRepliesPerMessage = 2;

// Answers every message with kRepliesPerMessage replies "echo <text> #<n>".
boost::asio::awaitable<Result<void>> echo_twice(Context& context, const Message& message);

// A message the test sent: its thread, its mid and its place in the order the kit received them.
struct SentMessage {
  std::string thread_id;
  std::string mid;
  std::int64_t sent_at_ms = 0;  // platform clock
  std::int64_t arrival = -1;    // -1: the kit has not stored it
};

// One person writing to the bot: their chat with it, and their community's install token.
struct Writer {
  std::string person_id;  // the platform's id
  std::string thread_id;
  std::string token;      // the install token of the community
};

// What the ledger found.
struct Ledger {
  std::int64_t expected = 0;
  std::int64_t delivered = 0;   // distinct expected replies the emulator recorded
  std::int64_t duplicates = 0;  // recordings beyond the first of a reply
  // Replies recorded before one that answers a message the kit received earlier, or an earlier
  // reply to the same message, in the same conversation.
  std::int64_t order_violations = 0;
  std::int64_t unexpected = 0;  // bot messages that answer no message of the test
  // Messages the platform delivered to the kit after a later message of the same conversation (its
  // deliveries run concurrently, and a retried one comes late): the kit answers in the order it
  // receives.
  std::int64_t delivered_out_of_order = 0;
  // Per delivered reply, platform time from its message to its first recording, in ms.
  std::vector<std::int64_t> latencies_ms;
};

// Returns the `percentile` (0–100) of `values` (nearest rank), 0 when empty.
std::int64_t percentile(std::vector<std::int64_t> values, double percentile);

class ChatLoadTest : public AppTest {
 protected:
  // Creates `count` communities besides the seed one, each with an administrator and `people`
  // members, installs the app in each (in the emulator and the kit's store, as the install flow
  // records it), and opens each member's chat with the bot. REQUIRES: kit_store_ is open.
  std::vector<Writer> create_writers(std::size_t count, std::size_t people, const std::string& name);
  // Opens the chat of `person_id` with the bot of `install`.
  Writer open_chat(const std::string& person_id, const emulator::Install& install);
  // Up to `count` of the seed community's people (other than its administrator) as writers.
  std::vector<Writer> seed_writers(std::size_t count);
  // Sends message number `number` ("m<number>") as `writer`.
  void write(const Writer& writer, std::int64_t number);
  // Numbers each message by the order in which the kit stored it (its inbox row's id).
  void read_arrivals();
  // Reads what the emulator recorded as sent by the bot and checks it against the messages sent.
  Ledger read_ledger();
  // Returns the rows of the App's database that are not finished: outbox replies (pending or
  // claimed), inbox events not done, dead letters.
  std::int64_t stuck_rows();
  // GETs a control API path ("/faults/graph") and returns its JSON (null on failure).
  json::value control_get(const std::string& path);

  std::unique_ptr<store::Store> kit_store_;
  std::map<std::int64_t, SentMessage> sent_;  // by message number
};

}  // namespace wik::testing
