#include "reliability/chat_load.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <string_view>
#include <utility>

namespace wik::testing {
namespace {

// A reply: the number of the message it answers, and which of its replies it is.
struct ReplyKey {
  std::int64_t message = -1;
  int reply = 0;
  auto operator<=>(const ReplyKey&) const = default;
};

// Returns the key of a reply text "echo m<number> #<reply>", or nullopt for any other text.
std::optional<ReplyKey> reply_key(std::string_view text) {
  if (!text.starts_with("echo m")) return std::nullopt;
  text.remove_prefix(6);
  const std::size_t hash = text.find(" #");
  if (hash == std::string_view::npos) return std::nullopt;
  ReplyKey key;
  const auto [stop, error] = std::from_chars(text.data(), text.data() + hash, key.message);
  const auto [stop2, error2] = std::from_chars(text.data() + hash + 2, text.data() + text.size(), key.reply);
  if (error != std::errc() || stop != text.data() + hash || error2 != std::errc() ||
      stop2 != text.data() + text.size()) {
    return std::nullopt;
  }
  return key;
}

}  // namespace

boost::asio::awaitable<Result<void>> echo_twice(Context& context, const Message& message) {
  for (int n = 1; n <= kRepliesPerMessage; ++n) {
    const Reply reply = Reply::text("echo " + message.text + " #" + std::to_string(n));
    auto queued = co_await context.reply(reply);
    if (!queued.ok()) co_return queued.error();
  }
  co_return ok_result();
}

std::int64_t percentile(std::vector<std::int64_t> values, double percentile) {
  if (values.empty()) return 0;
  std::ranges::sort(values);
  const auto rank = static_cast<std::size_t>(std::ceil(percentile / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

std::vector<Writer> ChatLoadTest::create_writers(std::size_t count, std::size_t people, const std::string& name) {
  std::vector<Writer> writers;
  emulator::PlatformState& platform = emulator_->state();
  for (std::size_t n = 0; n < count; ++n) {
    const std::string label = name + " " + std::to_string(n);
    auto community = platform.create_community(label);
    EXPECT_THAT(community, IsOk());
    if (!community.ok()) return writers;
    const std::string domain = "@" + name + std::to_string(n) + ".example";
    auto admin = platform.create_user(community->id, {.name = "Admin", .email = "admin" + domain, .system_admin = true});
    EXPECT_THAT(admin, IsOk());
    if (!admin.ok()) return writers;
    auto install = platform.install_directly(kAppId, admin->id);
    EXPECT_THAT(install, IsOk());
    if (!install.ok()) return writers;
    EXPECT_THAT(kit_store_->community(install->community_id)
                    ->put_installation({.community_name = label,
                                        .access_token = AccessToken(install->access_token),
                                        .permissions = install->permissions}),
                IsOk());
    for (std::size_t p = 0; p < people; ++p) {
      auto person = platform.create_user(
          community->id, {.name = "Person " + std::to_string(p), .email = "p" + std::to_string(p) + domain});
      EXPECT_THAT(person, IsOk());
      if (!person.ok()) return writers;
      writers.push_back(open_chat(person->id, *install));
    }
  }
  return writers;
}

Writer ChatLoadTest::open_chat(const std::string& person_id, const emulator::Install& install) {
  const auto opened = control("/users/" + person_id + "/open_chat", {{"page_id", install.page_id}});
  EXPECT_EQ(opened.status, 200u) << opened.body;
  std::string thread_id = opened.status == 200 ? std::string(json::parse(opened.body).at("id").as_string()) : "";
  return {person_id, std::move(thread_id), install.access_token};
}

std::vector<Writer> ChatLoadTest::seed_writers(std::size_t count) {
  std::vector<Writer> writers;
  for (const auto& user : emulator_->state().users(community_id())) {
    if (user.system_admin || writers.size() == count) continue;
    writers.push_back(open_chat(user.id, install_));
  }
  return writers;
}

void ChatLoadTest::write(const Writer& writer, std::int64_t number) {
  const auto sent = control("/users/" + writer.person_id + "/messages",
                            {{"thread_id", writer.thread_id}, {"text", "m" + std::to_string(number)}});
  ASSERT_EQ(sent.status, 200u) << sent.body;
  SentMessage& message = sent_[number];
  message = {writer.thread_id, std::string(json::parse(sent.body).at("mid").as_string())};
  for (const auto& recorded : emulator_->state().messages(writer.thread_id)) {
    if (recorded.mid == message.mid) message.sent_at_ms = recorded.sent_at_ms;
  }
}

void ChatLoadTest::read_arrivals() {
  std::map<std::string, std::int64_t> number_of;  // "mid:" + mid → message number
  for (const auto& [number, message] : sent_) number_of["mid:" + message.mid] = number;
  auto database = app::open_database(config_);
  ASSERT_THAT(database, IsOk());
  std::int64_t arrival = 0;
  const Result<void> read = (*database)->transact([&](store::Transaction& tx) -> Result<void> {
    auto rows = tx.query("SELECT dedupe_key FROM inbox ORDER BY id");
    if (!rows) return rows.error();
    for (const auto& row : *rows) {
      const auto found = number_of.find(std::string(row.text(0)));
      if (found != number_of.end()) sent_[found->second].arrival = arrival++;
    }
    return ok_result();
  });
  ASSERT_THAT(read, IsOk());
}

Ledger ChatLoadTest::read_ledger() {
  Ledger ledger;
  ledger.expected = static_cast<std::int64_t>(sent_.size()) * kRepliesPerMessage;
  std::map<ReplyKey, int> seen;
  // Per thread, the latest reply recorded: (arrival of the message it answers, which reply).
  std::map<std::string, std::pair<std::int64_t, int>> latest;
  for (const auto& bot : emulator_->state().bot_messages(std::string(kAppId))) {
    const auto* text = bot.message.as_object().if_contains("text");
    const auto key = text != nullptr && text->is_string() ? reply_key(text->as_string()) : std::nullopt;
    const auto message = key ? sent_.find(key->message) : sent_.end();
    if (!key || key->reply < 1 || key->reply > kRepliesPerMessage || message == sent_.end() ||
        message->second.thread_id != bot.thread_id) {
      ++ledger.unexpected;
      continue;
    }
    if (++seen[*key] > 1) {
      ++ledger.duplicates;
    } else {
      ledger.latencies_ms.push_back(bot.sent_at_ms - message->second.sent_at_ms);
    }
    const std::pair<std::int64_t, int> place{message->second.arrival, key->reply};
    const auto previous = latest.find(bot.thread_id);
    if (previous != latest.end() && place < previous->second) ++ledger.order_violations;
    if (previous == latest.end() || previous->second < place) latest[bot.thread_id] = place;
  }
  ledger.delivered = static_cast<std::int64_t>(seen.size());
  std::map<std::string, std::int64_t> latest_arrival;  // per thread, in the order the messages were sent
  for (const auto& [number, message] : sent_) {
    std::int64_t& last = latest_arrival.try_emplace(message.thread_id, -1).first->second;
    if (message.arrival < last) ++ledger.delivered_out_of_order;
    last = std::max(last, message.arrival);
  }
  return ledger;
}

std::int64_t ChatLoadTest::stuck_rows() {
  return count_rows("outbox") + count_rows("dead_letters") + count_rows("inbox WHERE state <> 'done'");
}

json::value ChatLoadTest::control_get(const std::string& path) {
  http::ClientRequest request{.method = boost::beast::http::verb::get, .url = emulator_->web_url() + "/_emulator" + path};
  auto response = run_coroutine(io_, http_->request(std::move(request)));
  EXPECT_THAT(response, IsOk());
  return response.ok() ? json::parse(response->body) : json::value();
}

}  // namespace wik::testing
