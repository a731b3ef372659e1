#include "app/bot_manners.h"

#include <wik/messenger_profile.h>

#include <chrono>
#include <sstream>

#include "app/community_context.h"
#include "core/ascii.h"

namespace wik::app {
namespace {

namespace asio = boost::asio;
using boost::beast::http::verb;

std::string trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n!.?");
  return std::string(text.substr(first, last - first + 1));
}

// The platform locale the messenger profile names for each catalog language ("default" aside).
std::string profile_locale(const std::string& catalog_locale) {
  static const std::pair<std::string_view, std::string_view> kRegions[] = {
      {"en", "en_US"}, {"fr", "fr_FR"}, {"de", "de_DE"}, {"es", "es_ES"}, {"pt", "pt_BR"}, {"ja", "ja_JP"},
      {"it", "it_IT"}, {"nl", "nl_NL"}, {"pl", "pl_PL"}, {"ko", "ko_KR"}, {"zh", "zh_CN"}, {"sv", "sv_SE"}};
  if (catalog_locale.find('_') != std::string::npos) return catalog_locale;
  for (const auto& [language, region] : kRegions) {
    if (language == catalog_locale) return std::string(region);
  }
  return {};
}

}  // namespace

Reply BotManners::with_menu(const Context& context, std::string text) const {
  Reply reply = Reply::text(std::move(text));
  reply.quick_reply(context.text("wik.quick.help"), std::string(Bot::kHelpPayload));
  for (const auto& [title_key, payload] : bot_.menu) reply.quick_reply(context.text(title_key), payload);
  return reply;
}

bool BotManners::is_help_word(const Context& context, std::string_view text) const {
  const std::string word = core::ascii_lower(trimmed(text));
  if (word.empty()) return false;
  std::stringstream words(context.text("wik.help.words") + "|help");
  for (std::string candidate; std::getline(words, candidate, '|');) {
    if (!candidate.empty() && core::ascii_lower(candidate) == word) return true;
  }
  return false;
}

asio::awaitable<Result<bool>> BotManners::before_message(Context& context, const Message& message) const {
  if (message.quick_reply_payload == Bot::kHelpPayload || is_help_word(context, message.text)) {
    auto helped = co_await help(context);
    if (!helped.ok()) co_return helped.error();
    co_return true;
  }
  std::string remember =
      "INSERT INTO wik_bot_people (community_id, person_id, first_seen_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  DataValues values{message.sender_id, std::int64_t{now_ms}};
  auto first_time = co_await context.data().execute(std::move(remember), std::move(values));
  if (!first_time.ok()) co_return first_time.error();
  if (*first_time == 1) {
    auto greeted = co_await greet(context, message.sender_id);
    if (!greeted.ok()) co_return greeted.error();
  }
  co_return false;
}

asio::awaitable<Result<bool>> BotManners::before_postback(Context& context, const Postback& postback) const {
  if (postback.payload == Bot::kGetStartedPayload) {
    auto greeted = co_await greet(context, postback.sender_id);
    if (!greeted.ok()) co_return greeted.error();
    co_return true;
  }
  if (postback.payload == Bot::kHelpPayload) {
    auto helped = co_await help(context);
    if (!helped.ok()) co_return helped.error();
    co_return true;
  }
  co_return false;
}

asio::awaitable<Result<void>> BotManners::greet(Context& context, const std::string& person) const {
  std::string name;
  Result<boost::json::value> profile = Error(ErrorCode::kInvalidArgument, "not a person's id");
  if (is_platform_id(person)) {
    std::string path = "/" + person;
    std::vector<std::pair<std::string, std::string>> fields{{"fields", "first_name"}};
    std::optional<boost::json::value> no_body;
    profile = co_await context.graph(verb::get, std::move(path), std::move(fields), std::move(no_body));
  }
  if (profile.ok() && profile->is_object()) {
    if (const auto* first = profile->as_object().if_contains("first_name"); first && first->is_string()) {
      name = std::string(first->as_string());
    }
  }
  const Reply reply = with_menu(context, context.text("wik.greeting", {{"name", name},
                                                                       {"bot", context.text(bot_.name_key)},
                                                                       {"what", context.text(bot_.what_key)}}));
  co_return co_await context.reply(reply);
}

asio::awaitable<Result<void>> BotManners::help(Context& context) const {
  std::string text = context.text("wik.help", {{"what", context.text(bot_.what_key)}});
  if (!bot_.help_key.empty()) text += "\n" + context.text(bot_.help_key);
  if (!bot_.support_contact.empty()) text += "\n" + context.text("wik.help.support", {{"support", bot_.support_contact}});
  const Reply reply = with_menu(context, std::move(text));
  co_return co_await context.reply(reply);
}

bool BotManners::acknowledges(const DecodedEvent& event) const noexcept {
  if (!bot_.acknowledge_actions) return false;
  if (std::holds_alternative<Postback>(event)) return true;
  const auto* message = std::get_if<Message>(&event);
  return message != nullptr && message->quick_reply_payload.has_value();
}

asio::awaitable<Result<void>> BotManners::acknowledge(Context& context) const {
  const Reply reply = Reply::text(context.text("wik.ack"));
  co_return co_await context.reply(reply);
}

asio::awaitable<Result<void>> BotManners::set_profile(Context& context) const {
  const Catalogs& catalogs = bot_.catalogs;
  MessengerProfile profile;
  profile.get_started(std::string(Bot::kGetStartedPayload));
  profile.greeting(std::string(MessengerProfile::kDefaultLocale),
                   catalogs.text(catalogs.default_locale(), bot_.greeting_key));
  for (const std::string& locale : catalogs.locales()) {
    const std::string platform_locale = profile_locale(locale);
    if (!platform_locale.empty()) profile.greeting(platform_locale, catalogs.text(locale, bot_.greeting_key));
  }
  auto body = profile.body();
  if (!body.ok()) co_return body.error();
  std::string path = "/me/messenger_profile";
  std::optional<boost::json::value> json = std::move(*body);
  std::vector<std::pair<std::string, std::string>> no_query;
  auto set = co_await context.graph(verb::post, std::move(path), std::move(no_query), std::move(json));
  if (!set.ok()) co_return set.error();
  co_return ok_result();
}

}  // namespace wik::app
