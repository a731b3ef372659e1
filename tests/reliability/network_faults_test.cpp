// H5: network faults between the kit and the platform (docs/RELIABILITY.md, "Network faults").
//
// The platform-faults scenario (chat_load.h: the emulator and a wik::App in the test's process,
// people of three communities writing to an echo bot that answers each message twice) with the
// fault proxy (support/fault_proxy.h) on one link at a time:
//   graph     the kit's Graph base URL points at the proxy, which forwards to the emulator's Graph
//             host: the kit's sends (POST /me/messages) cross it;
//   webhooks  the app's callback URL registered with the emulator points at the proxy, which
//             forwards to the App: the platform's webhook deliveries cross it.
// For each of Toxiproxy's toxics in turn, with a toxicity of 0.3–0.5 on the link, the people write
// their messages and the test waits until every reply is delivered and nothing is left. The
// platform retries a failed delivery 15 s, then 1 min after its first attempt (emulator
// webhook_delivery.h): when the App's progress stalls with deliveries waiting for a retry, the test
// moves the platform clock to the next retry — the toxic stays on for the second attempt and is
// removed before the third (the fourth would be due after 5 min, beyond the appsecret_proof window
// the platform clock must stay in). Latencies are in platform time, so they include those waits as
// a person would see them.
// The test checks that
//   - every reply is delivered (lost = 0), none is unexpected, and each conversation's replies come
//     in the order the kit received its messages;
//   - duplicates are no more than the answers the network lost after the platform had the request:
//     the Send API has no idempotency key, so a send whose answer is lost is sent again; the proxy
//     counts the connections a toxic cut after the upstream had been sent request bytes, and at
//     most one answer is lost per cut connection. On the webhook link the kit deduplicates
//     redeliveries, and no duplicate is allowed;
//   - nothing is stuck: no reply left in the outbox, no event left in the inbox, no dead letter,
//     and no webhook delivery the platform still means to retry (every redelivery of an event the
//     kit had stored but whose answer was lost has been made, and deduplicated);
//   - the toxic acted on at least one connection (the proxy's seed makes the first draw toxic).
// Each case prints
//   H5 <toxic> <link>: replies delivered=…/…, dup=…, stuck=0, p99=… ms (…)
// WIK_H5_MESSAGES sets the messages per case (12 unless set; scripts/reliability.sh runs 200).
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <ostream>
#include <tuple>
#include <vector>

#include "reliability/chat_load.h"
#include "support/fault_proxy.h"

namespace wik::testing {
namespace {

using std::chrono::milliseconds;

constexpr std::size_t kSeedWriters = 3;
constexpr std::size_t kMoreCommunities = 2;
constexpr std::size_t kPeoplePerCommunity = 2;
constexpr std::uint64_t kProxySeed = 43;  // its first draw is 0.03: the first connection drawn is toxic
constexpr auto kStall = std::chrono::milliseconds(500);  // no progress this long: look for waiting retries

// The messages each case sends: WIK_H5_MESSAGES, else 12.
std::size_t messages_per_case() {
  const char* text = std::getenv("WIK_H5_MESSAGES");
  std::size_t value = 0;
  if (text == nullptr) return 12;
  const char* end = text + std::char_traits<char>::length(text);
  const auto [stop, error] = std::from_chars(text, end, value);
  return error == std::errc() && stop == end ? std::clamp<std::size_t>(value, 1, 100000) : 12;
}

enum class Link { kGraph, kWebhooks };

std::string_view link_name(Link link) { return link == Link::kGraph ? "graph" : "webhooks"; }

// The toxics, each with the direction and toxicity it runs with: the cutting ones downstream, where
// the server has acted on the request whose answer is lost; the slicer upstream, where the server
// parses requests in pieces.
const std::vector<Toxic>& toxics() {
  static const std::vector<Toxic> list = {
      Toxic::latency(milliseconds(100), milliseconds(50)).on(Direction::kDownstream, 0.5),
      Toxic::down().on(Direction::kUpstream, 0.3),
      Toxic::bandwidth(20000).on(Direction::kDownstream, 0.5),
      Toxic::slow_close(milliseconds(200)).on(Direction::kDownstream, 0.5),
      Toxic::timeout(milliseconds(300)).on(Direction::kDownstream, 0.3),
      Toxic::reset_peer().on(Direction::kDownstream, 0.3),
      Toxic::slicer(64, 32, milliseconds(2)).on(Direction::kUpstream, 0.5),
      Toxic::limit_data(2000).on(Direction::kDownstream, 0.5),
  };
  return list;
}

// One case: a toxic on a link.
struct Case {
  Toxic toxic;
  Link link = Link::kGraph;
};

std::string case_name(const Case& one) {
  return std::string(toxic_name(one.toxic.kind)) + "_" + std::string(link_name(one.link));
}

// Names the case in test listings (gtest prints parameters with it).
void PrintTo(const Case& one, std::ostream* out) { *out << case_name(one); }

// Every toxic on every link.
std::vector<Case> cases() {
  std::vector<Case> all;
  for (const Toxic& toxic : toxics()) {
    for (const Link link : {Link::kGraph, Link::kWebhooks}) all.push_back({toxic, link});
  }
  return all;
}

class NetworkFaultsTest : public ChatLoadTest, public ::testing::WithParamInterface<Case> {
 protected:
  Link link() const { return GetParam().link; }

  // Returns whether some webhook delivery's latest attempt failed and another attempt will follow.
  bool deliveries_wait_for_retry() {
    std::map<std::int64_t, const json::object*> latest;  // by delivery id
    const json::value log = control_get("/deliveries?app_id=" + std::string(kAppId));
    const auto* attempts = log.is_object() ? log.as_object().if_contains("data") : nullptr;
    if (attempts == nullptr || !attempts->is_array()) return false;
    for (const json::value& attempt : attempts->as_array()) {
      const json::object& fields = attempt.as_object();
      const std::int64_t id = fields.at("delivery_id").to_number<std::int64_t>();
      const auto found = latest.find(id);
      if (found == latest.end() || found->second->at("attempt").to_number<int>() < fields.at("attempt").to_number<int>()) {
        latest[id] = &fields;
      }
    }
    return std::ranges::any_of(latest, [](const auto& entry) {
      return !entry.second->at("delivered").as_bool() && !entry.second->at("final").as_bool();
    });
  }

  // Moves the platform clock forward by `seconds` (due webhook retries run at once).
  void advance_platform_clock(std::int64_t seconds) {
    const auto advanced = control("/clock/advance", {{"seconds", seconds}});
    ASSERT_EQ(advanced.status, 200u) << advanced.body;
  }

  std::unique_ptr<FaultProxy> proxy_;
};

TEST_P(NetworkFaultsTest, EveryReplyArrivesInOrderWithOnlyTheDuplicatesLostAnswersExplain) {
  const Toxic toxic = GetParam().toxic;
  auto proxy = FaultProxy::start(emulator_->graph_port(), kProxySeed);
  ASSERT_THAT(proxy, IsOk());
  proxy_ = std::move(*proxy);
  if (link() == Link::kGraph) config_.app.graph_url = proxy_->url();
  config_.app.reverify_interval = std::chrono::hours(0);  // the install sweep is not this test's subject
  config_.log.level = LogLevel::kError;                    // each failed send logs a warning
  // The pacer would space each conversation's replies 500 ms apart, and the latencies would measure
  // it rather than the network.
  config_.bot.thread_spacing = milliseconds(0);
  start_installed_app([](App& app) { app.on_message(echo_twice); });
  kit_store_ = open_kit_store();
  ASSERT_NE(kit_store_, nullptr);
  if (link() == Link::kWebhooks) {
    proxy_->set_upstream(app_->port());
    const auto subscribed = call_graph(boost::beast::http::verb::post, "/app/subscriptions",
                                       http::encode_form({{"object", "page"},
                                                          {"callback_url", proxy_->url() + "/workplace/webhook"},
                                                          {"fields", page_fields_},
                                                          {"verify_token", kVerifyToken},
                                                          {"access_token", std::string(kAppId) + "|" + kSecret}}));
    ASSERT_EQ(subscribed.status, 200u) << subscribed.body;
  }

  std::vector<Writer> writers = seed_writers(kSeedWriters);
  const std::vector<Writer> more = create_writers(kMoreCommunities, kPeoplePerCommunity, "h5");
  writers.insert(writers.end(), more.begin(), more.end());
  ASSERT_EQ(writers.size(), kSeedWriters + kMoreCommunities * kPeoplePerCommunity);

  proxy_->add_toxic(toxic);
  const auto started = std::chrono::steady_clock::now();
  const std::size_t messages = messages_per_case();
  for (std::size_t m = 0; m < messages && !HasFatalFailure(); ++m) {
    write(writers[m % writers.size()], static_cast<std::int64_t>(m));
  }
  ASSERT_FALSE(HasFatalFailure());

  // The kit's own retries back off up to 64 s before a reply's last attempt; the bound only stops
  // a run that would never end.
  const auto deadline = started + std::chrono::seconds(150) + milliseconds(300) * messages;
  // The platform's retries after the first attempt (15 s, 1 min), as steps of its clock.
  const std::vector<std::int64_t> retry_steps = {15, 45};
  std::size_t steps_taken = 0;
  std::int64_t advanced_seconds = 0;
  std::tuple<std::int64_t, std::int64_t> progress{-1, -1};  // (delivered, stuck)
  auto progress_at = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < deadline) {
    const Ledger now = read_ledger();
    const std::int64_t stuck = stuck_rows();
    const bool platform_settled = link() == Link::kGraph || !deliveries_wait_for_retry();
    if (now.delivered == now.expected && stuck == 0 && platform_settled) break;
    if (std::tuple(now.delivered, stuck) != progress) {
      progress = {now.delivered, stuck};
      progress_at = std::chrono::steady_clock::now();
    } else if (link() == Link::kWebhooks && steps_taken < retry_steps.size() &&
               std::chrono::steady_clock::now() - progress_at > kStall && deliveries_wait_for_retry()) {
      if (steps_taken + 1 == retry_steps.size()) proxy_->clear_toxics();
      advance_platform_clock(retry_steps[steps_taken]);
      advanced_seconds += retry_steps[steps_taken++];
      progress_at = std::chrono::steady_clock::now();
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const std::int64_t stuck = stuck_rows();
  const bool retries_waiting = deliveries_wait_for_retry();
  read_arrivals();
  const Ledger ledger = read_ledger();
  const FaultProxyStats proxied = proxy_->stats();
  const std::int64_t lost_answers = link() == Link::kGraph ? proxied.cut_after_request : 0;
  const json::value log = control_get("/deliveries?app_id=" + std::string(kAppId));
  const auto redelivered = std::ranges::count_if(log.at("data").as_array(), [](const json::value& attempt) {
    return attempt.at("kind") == "event" && attempt.at("attempt").to_number<int>() > 1;
  });

  std::cout << "H5 " << toxic_name(toxic.kind) << " " << link_name(link()) << ": replies delivered=" << ledger.delivered
            << "/" << ledger.expected << ", dup=" << ledger.duplicates << ", stuck=" << stuck
            << ", p99=" << percentile(ledger.latencies_ms, 99) << " ms (toxicity " << toxic.toxicity << " "
            << (toxic.direction == Direction::kUpstream ? "upstream" : "downstream")
            << "; connections=" << proxied.connections << ", toxic applications=" << proxied.toxic_applications
            << ", cut after request=" << proxied.cut_after_request << ", dup allowed=" << lost_answers
            << ", order violations=" << ledger.order_violations << ", webhook redeliveries=" << redelivered
            << ", deliveries waiting for a retry=" << (retries_waiting ? "yes" : "no")
            << ", platform clock advanced=" << advanced_seconds << " s, elapsed=" << elapsed << " s)" << std::endl;

  EXPECT_EQ(ledger.delivered, ledger.expected) << "lost replies";
  EXPECT_EQ(ledger.unexpected, 0);
  EXPECT_EQ(ledger.order_violations, 0);
  EXPECT_LE(ledger.duplicates, lost_answers) << "a reply doubled without a lost answer to explain it";
  EXPECT_EQ(stuck, 0) << "replies left in the outbox, events in the inbox or dead letters";
  EXPECT_FALSE(retries_waiting) << "the platform still has webhook deliveries to retry";
  EXPECT_GT(proxied.toxic_applications, 0) << "the toxic never acted";
}

INSTANTIATE_TEST_SUITE_P(Toxics, NetworkFaultsTest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& one) { return case_name(one.param); });

}  // namespace
}  // namespace wik::testing
