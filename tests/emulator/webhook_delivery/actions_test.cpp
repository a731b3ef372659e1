// Tests of PlatformActions: for each action, which apps receive which webhook item, in the shape of
// PROTOCOL.md §6.4–§6.5 and with each app's own scoped ids; and that bad input changes nothing and
// sends nothing.
#include "emulator/webhook_delivery/actions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <regex>

#include "core/signed_request.h"
#include "delivery_fixture.h"
#include "http/server/message.h"
#include "support/result_matchers.h"

namespace wik::emulator::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using wik::testing::HasError;
using wik::testing::IsOk;

constexpr char kHelpdesk[] = "7001";  // subscribed to everything
constexpr char kTriage[] = "7002";    // page/messages and group/posts,comments only
constexpr char kElsewhere[] = "7003";  // installed in another community only

class ActionsTest : public DeliveryFixture {
 protected:
  void SetUp() override {
    register_app(kHelpdesk, "Helpdesk");
    subscribe(kHelpdesk, "page", {"messages", "messaging_postbacks", "message_deliveries", "message_reads", "mention"});
    subscribe(kHelpdesk, "group", {"posts", "comments", "membership"});
    register_app(kTriage, "Triage");
    subscribe(kTriage, "page", {"messages"});
    subscribe(kTriage, "group", {"posts", "comments"});
    register_app(kElsewhere, "Elsewhere");
    subscribe(kElsewhere, "page", {"messages"});
    subscribe(kElsewhere, "group", {"posts", "comments", "membership"});

    actions_ = std::make_unique<PlatformActions>(*state_, *delivery_);
    helpdesk_page_ = installed(kHelpdesk, admin_.id).page_id;
    triage_page_ = installed(kTriage, admin_.id).page_id;
    ana_ = person(community_.id, "Ana Ortiz", "ana@delivery.test");
    bob_ = person(community_.id, "Bob Ng", "bob@delivery.test");
    carol_ = person(community_.id, "Carol Diaz", "carol@delivery.test");
    auto group = state_->create_group(community_.id, "Releases", {ana_.id, bob_.id});
    ASSERT_THAT(group, IsOk());
    group_ = *group;

    auto other = state_->create_community("Other Co");
    ASSERT_THAT(other, IsOk());
    other_community_ = *other;
    User other_admin = person(other_community_.id, "Olga Admin", "olga@delivery.test", true);
    elsewhere_page_ = installed(kElsewhere, other_admin.id).page_id;
    auto other_group = state_->create_group(other_community_.id, "Other group", {other_admin.id});
    ASSERT_THAT(other_group, IsOk());
    other_group_ = *other_group;
    other_admin_ = other_admin;
  }

  void TearDown() override { actions_.reset(); }

  // Recreates the delivery with `options` (and the actions that use it).
  void use_options(DeliveryOptions options) {
    actions_.reset();
    make_delivery(options);
    actions_ = std::make_unique<PlatformActions>(*state_, *delivery_);
  }

  Install installed(const Id& app_id, const Id& admin_id) {
    auto install = actions_->install(app_id, admin_id);
    EXPECT_THAT(install, IsOk());
    return install.ok() ? *install : Install{};
  }

  User person(const Id& community_id, const std::string& name, const std::string& email, bool admin = false) {
    auto user = state_->create_user(community_id, User{.name = name, .email = email, .locale = "en_US",
                                                       .system_admin = admin});
    EXPECT_THAT(user, IsOk());
    return user.ok() ? *user : User{};
  }

  // Returns every entry `app_id` received, once everything published for it before this call has
  // arrived: a sentinel item is published to the app through `object`/`field` (which the app must be
  // subscribed to) and waited for; it leaves in the same or a later POST than anything queued before.
  std::vector<json::value> settle(const Id& app_id, const std::string& object = "page",
                                  const std::string& field = "messages") {
    const std::string sentinel = "sentinel-" + std::to_string(++sentinels_);
    delivery_->publish(app_id, object, field, sentinel, json::object{{"sentinel", true}});
    EXPECT_TRUE(app_.wait_until([&](const std::vector<ReceivedRequest>& requests) {
      const auto entries = entries_in(requests, app_id);
      return std::any_of(entries.begin(), entries.end(),
                         [&](const json::value& entry) { return entry.at("id").as_string() == sentinel; });
    }));
    std::vector<json::value> entries;
    for (auto& entry : received_entries(app_, app_id)) {
      if (!entry.at("id").as_string().starts_with("sentinel-")) entries.push_back(std::move(entry));
    }
    return entries;
  }

  // Returns the entries of `app_id` for `field` (messaging entries count under their field's name).
  std::vector<json::value> entries_of(const Id& app_id, const std::string& field) {
    std::vector<json::value> found;
    for (auto& entry : settle(app_id)) {
      const json::object& object = entry.as_object();
      if (object.contains("changes") && object.at("changes").at(0).at("field").as_string() == field) {
        found.push_back(std::move(entry));
      } else if (object.contains("messaging")) {
        const json::object& item = object.at("messaging").at(0).as_object();
        const bool matches = (field == "messages" && item.contains("message")) ||
                             (field == "messaging_postbacks" && item.contains("postback")) ||
                             (field == "message_deliveries" && item.contains("delivery")) ||
                             (field == "message_reads" && item.contains("read"));
        if (matches) found.push_back(std::move(entry));
      }
    }
    return found;
  }

  Id scoped(const Id& app_id, const User& user) { return state_->scoped_user_id(app_id, user.id); }

  Thread chat_with(const User& user, const Id& page_id) {
    auto thread = actions_->open_chat(user.id, page_id);
    EXPECT_THAT(thread, IsOk());
    return thread.ok() ? *thread : Thread{};
  }

  std::unique_ptr<PlatformActions> actions_;
  Id helpdesk_page_;
  Id triage_page_;
  Id elsewhere_page_;
  User ana_;
  User bob_;
  User carol_;
  Group group_;
  Community other_community_;
  User other_admin_;
  Group other_group_;
  int sentinels_ = 0;
};

// --- chat ---------------------------------------------------------------------------------------

TEST_F(ActionsTest, SendMessageReachesTheBotsAppWithScopedSenderAndNumericCommunityId) {
  const Thread thread = chat_with(ana_, helpdesk_page_);
  auto sent = actions_->send_message(ana_.id, thread.id, "help");
  ASSERT_THAT(sent, IsOk());

  const auto entries = entries_of(kHelpdesk, "messages");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].at("id").as_string(), helpdesk_page_);
  EXPECT_EQ(entries[0].at("time").as_int64(), clock_.unix_seconds() * 1000);
  const json::value& item = entries[0].at("messaging").at(0);
  EXPECT_EQ(item.at("sender").at("id").as_string(), scoped(kHelpdesk, ana_));
  EXPECT_NE(item.at("sender").at("id").as_string(), ana_.id);
  ASSERT_TRUE(item.at("sender").at("community").at("id").is_number());
  EXPECT_EQ(std::to_string(item.at("sender").at("community").at("id").to_number<std::uint64_t>()), community_.id);
  EXPECT_EQ(item.at("recipient").at("id").as_string(), helpdesk_page_);
  EXPECT_EQ(item.at("timestamp").as_int64(), sent->sent_at_ms);
  EXPECT_EQ(item.at("message").at("mid").as_string(), sent->mid);
  EXPECT_EQ(item.at("message").at("text").as_string(), "help");
  EXPECT_FALSE(item.as_object().contains("thread"));
  EXPECT_TRUE(entries_of(kTriage, "messages").empty());
}

TEST_F(ActionsTest, CommunityIdIsAStringWhenAsked) {
  use_options({.community_id_as_string = true});
  const Thread thread = chat_with(ana_, helpdesk_page_);
  ASSERT_THAT(actions_->send_message(ana_.id, thread.id, "help"), IsOk());
  const auto entries = entries_of(kHelpdesk, "messages");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].at("messaging").at(0).at("sender").at("community").at("id").as_string(), community_.id);
}

TEST_F(ActionsTest, GroupThreadMessagesCarryTheThread) {
  auto thread = state_->create_group_thread(helpdesk_page_, {ana_.id, bob_.id});
  ASSERT_THAT(thread, IsOk());
  ASSERT_THAT(actions_->send_message(bob_.id, thread->id, "hi all"), IsOk());
  const auto entries = entries_of(kHelpdesk, "messages");
  ASSERT_EQ(entries.size(), 1u);
  const json::value& item = entries[0].at("messaging").at(0);
  EXPECT_EQ(item.at("thread").at("id").as_string(), "t_" + thread->id);
  EXPECT_EQ(item.at("sender").at("id").as_string(), scoped(kHelpdesk, bob_));
}

TEST_F(ActionsTest, PressQuickReplySendsItsTitleAndPayload) {
  const Thread thread = chat_with(ana_, helpdesk_page_);
  auto offered = state_->add_message(thread.id, helpdesk_page_, true, json::parse(R"({"text":"Pick one",
      "quick_replies":[{"content_type":"text","title":"Drama","payload":"PICK_DRAMA"},
                       {"content_type":"text","title":"Comedy","payload":"PICK_COMEDY"}]})"));
  ASSERT_THAT(offered, IsOk());
  auto pressed = actions_->press_quick_reply(ana_.id, thread.id, offered->mid, 1);
  ASSERT_THAT(pressed, IsOk());
  EXPECT_EQ(pressed->message.at("text").as_string(), "Comedy");

  const auto entries = entries_of(kHelpdesk, "messages");
  ASSERT_EQ(entries.size(), 1u);
  const json::value& message = entries[0].at("messaging").at(0).at("message");
  EXPECT_EQ(message.at("text").as_string(), "Comedy");
  EXPECT_EQ(message.at("quick_reply").at("payload").as_string(), "PICK_COMEDY");
  EXPECT_EQ(message.at("mid").as_string(), pressed->mid);
}

TEST_F(ActionsTest, PressPostbackCountsButtonsAcrossGenericTemplateElements) {
  const Thread thread = chat_with(ana_, helpdesk_page_);
  auto offered = state_->add_message(thread.id, helpdesk_page_, true, json::parse(R"({"attachment":{"type":"template",
      "payload":{"template_type":"generic","elements":[
        {"title":"A","buttons":[{"type":"postback","title":"Open A","payload":"OPEN_A"},
                                {"type":"web_url","title":"Site","url":"https://vendor.example"}]},
        {"title":"B","buttons":[{"type":"postback","title":"Open B","payload":"OPEN_B"}]}]}}})"));
  ASSERT_THAT(offered, IsOk());
  ASSERT_THAT(actions_->press_postback(ana_.id, thread.id, offered->mid, 2), IsOk());
  EXPECT_THAT(actions_->press_postback(ana_.id, thread.id, offered->mid, 1),
              HasError(ErrorCode::kInvalidArgument, HasSubstr("not a postback")));
  EXPECT_THAT(actions_->press_postback(ana_.id, thread.id, offered->mid, 3), HasError(ErrorCode::kInvalidArgument));

  const auto entries = entries_of(kHelpdesk, "messaging_postbacks");
  ASSERT_EQ(entries.size(), 1u);
  const json::value& item = entries[0].at("messaging").at(0);
  EXPECT_EQ(item.at("postback"), json::parse(R"({"title":"Open B","payload":"OPEN_B"})"));
  EXPECT_EQ(item.at("sender").at("id").as_string(), scoped(kHelpdesk, ana_));
}

TEST_F(ActionsTest, PressGetStartedSendsTheProfilesPayload) {
  EXPECT_THAT(actions_->press_get_started(ana_.id, helpdesk_page_), HasError(ErrorCode::kNotFound));
  state_->set_messenger_profile(state_->install_by_page(helpdesk_page_)->id,
                                json::object{{"get_started", {{"payload", "GET_STARTED"}}}});
  ASSERT_THAT(actions_->press_get_started(ana_.id, helpdesk_page_), IsOk());
  const auto entries = entries_of(kHelpdesk, "messaging_postbacks");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].at("messaging").at(0).at("postback"),
            json::parse(R"({"title":"Get Started","payload":"GET_STARTED"})"));
}

TEST_F(ActionsTest, MarkReadSendsAWatermark) {
  const Thread thread = chat_with(ana_, helpdesk_page_);
  ASSERT_THAT(actions_->mark_read(ana_.id, thread.id), IsOk());
  const auto entries = entries_of(kHelpdesk, "message_reads");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].at("messaging").at(0).at("read").at("watermark").as_int64(), clock_.unix_seconds() * 1000);
}

TEST_F(ActionsTest, ConfirmDeliveryTellsTheBotWhoReceivedItsMessage) {
  auto thread = state_->create_group_thread(helpdesk_page_, {ana_.id, bob_.id});
  ASSERT_THAT(thread, IsOk());
  auto sent = state_->add_message(thread->id, helpdesk_page_, true, json::object{{"text", "hello both"}});
  ASSERT_THAT(sent, IsOk());
  actions_->confirm_delivery(*sent);
  const auto entries = entries_of(kHelpdesk, "message_deliveries");
  ASSERT_EQ(entries.size(), 2u);
  std::set<std::string> receivers;
  for (const auto& entry : entries) {
    const json::value& item = entry.at("messaging").at(0);
    EXPECT_EQ(item.at("delivery"), (json::value{{"mids", json::array{json::string(sent->mid)}},
                                                {"watermark", sent->sent_at_ms}}));
    EXPECT_EQ(item.at("thread").at("id").as_string(), "t_" + thread->id);
    receivers.emplace(item.at("sender").at("id").as_string());
  }
  EXPECT_EQ(receivers, (std::set<std::string>{scoped(kHelpdesk, ana_), scoped(kHelpdesk, bob_)}));
}

// --- groups -------------------------------------------------------------------------------------

TEST_F(ActionsTest, PostReachesEveryAppInstalledInTheCommunityWithItsOwnIds) {
  auto post = actions_->post(ana_.id, group_.id, "Release 4.2 is out");
  ASSERT_THAT(post, IsOk());
  std::vector<std::string> senders;
  for (const Id app_id : {kHelpdesk, kTriage}) {
    const auto entries = entries_of(app_id, "posts");
    ASSERT_EQ(entries.size(), 1u) << app_id;
    EXPECT_EQ(entries[0].at("id").as_string(), group_.id);
    EXPECT_EQ(entries[0].at("time").as_int64(), clock_.unix_seconds());
    const json::value& value = entries[0].at("changes").at(0).at("value");
    EXPECT_EQ(value.at("from").at("id").as_string(), scoped(app_id, ana_));
    EXPECT_EQ(value.at("from").at("name").as_string(), "Ana Ortiz");
    EXPECT_EQ(value.at("community").at("id").as_string(), community_.id);
    EXPECT_EQ(value.at("post_id").as_string(), post->id);
    EXPECT_EQ(value.at("type").as_string(), "status");
    EXPECT_EQ(value.at("target_type").as_string(), "group");
    EXPECT_EQ(value.at("verb").as_string(), "add");
    EXPECT_EQ(value.at("message").as_string(), "Release 4.2 is out");
    EXPECT_TRUE(std::regex_match(std::string(value.at("created_time").as_string()),
                                 std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000)")));
    EXPECT_THAT(std::string(value.at("permalink_url").as_string()), HasSubstr("/groups/" + group_.id + "/permalink/"));
    senders.emplace_back(value.at("from").at("id").as_string());
  }
  EXPECT_NE(senders[0], senders[1]);  // two apps, two scoped ids for the same person
  EXPECT_TRUE(settle(kElsewhere).empty());
}

TEST_F(ActionsTest, MentionGoesOnlyToTheMentionedBot) {
  auto post = actions_->post(ana_.id, group_.id, "Hey @[" + helpdesk_page_ + "] and @[" + bob_.id + "], 日本 ok?");
  ASSERT_THAT(post, IsOk());
  const auto mentions = entries_of(kHelpdesk, "mention");
  ASSERT_EQ(mentions.size(), 1u);
  EXPECT_EQ(mentions[0].at("id").as_string(), helpdesk_page_);
  const json::value& value = mentions[0].at("changes").at(0).at("value");
  EXPECT_EQ(value.at("message").as_string(), "Hey Helpdesk and Bob Ng, 日本 ok?");
  const json::value tags = json::array{
      {{"id", helpdesk_page_}, {"name", "Helpdesk"}, {"type", "page"}, {"offset", 4}, {"length", 8}},
      {{"id", scoped(kHelpdesk, bob_)}, {"name", "Bob Ng"}, {"type", "user"}, {"offset", 17}, {"length", 6}}};
  EXPECT_EQ(value.at("message_tags"), tags);
  EXPECT_EQ(value.at("from").at("id").as_string(), scoped(kHelpdesk, ana_));
  EXPECT_EQ(value.at("community").at("id").as_string(), community_.id);
  EXPECT_EQ(value.at("post_id").as_string(), post->id);
  EXPECT_FALSE(value.as_object().contains("comment_id"));
  EXPECT_EQ(value.at("item").as_string(), "post");
  EXPECT_EQ(value.at("verb").as_string(), "add");
  EXPECT_EQ(value.at("created_time").as_int64(), clock_.unix_seconds());
  EXPECT_TRUE(value.at("permalink_url").is_string());

  // Triage is installed and sees the post, but was not mentioned (and is not subscribed to mention).
  EXPECT_EQ(entries_of(kTriage, "posts").size(), 1u);
  EXPECT_TRUE(entries_of(kTriage, "mention").empty());
}

TEST_F(ActionsTest, MentionOfABotWithoutASubscriptionSendsNothing) {
  ASSERT_THAT(actions_->post(ana_.id, group_.id, "ping @[" + triage_page_ + "]"), IsOk());
  EXPECT_TRUE(entries_of(kTriage, "mention").empty());
  EXPECT_TRUE(entries_of(kHelpdesk, "mention").empty());
}

TEST_F(ActionsTest, CommentsAndRepliesReachInstalledAppsAndMentionedBots) {
  auto post = actions_->post(ana_.id, group_.id, "Release notes");
  ASSERT_THAT(post, IsOk());
  auto comment = actions_->comment(bob_.id, post->id, "@[" + helpdesk_page_ + "] file this");
  ASSERT_THAT(comment, IsOk());
  auto reply = actions_->comment(ana_.id, comment->id, "+1");
  ASSERT_THAT(reply, IsOk());

  const auto comments = entries_of(kTriage, "comments");
  ASSERT_EQ(comments.size(), 2u);
  const json::value& first = comments[0].at("changes").at(0).at("value");
  EXPECT_EQ(comments[0].at("id").as_string(), group_.id);
  EXPECT_EQ(first.at("comment_id").as_string(), comment->id);
  EXPECT_EQ(first.at("post_id").as_string(), post->id);
  EXPECT_EQ(first.at("from").at("id").as_string(), scoped(kTriage, bob_));
  EXPECT_EQ(first.at("message").as_string(), "Helpdesk file this");
  EXPECT_FALSE(first.as_object().contains("parent_id"));
  const json::value& second = comments[1].at("changes").at(0).at("value");
  EXPECT_EQ(second.at("parent_id").as_string(), comment->id);
  EXPECT_TRUE(std::string(second.at("created_time").as_string()).ends_with("+0000"));

  const auto mentions = entries_of(kHelpdesk, "mention");
  ASSERT_EQ(mentions.size(), 1u);
  const json::value& mention = mentions[0].at("changes").at(0).at("value");
  EXPECT_EQ(mention.at("item").as_string(), "comment");
  EXPECT_EQ(mention.at("comment_id").as_string(), comment->id);
  EXPECT_EQ(mention.at("post_id").as_string(), post->id);
}

TEST_F(ActionsTest, AddGroupMemberSendsMembershipOnceToSubscribedApps) {
  ASSERT_THAT(actions_->add_group_member(group_.id, carol_.id), IsOk());
  ASSERT_THAT(actions_->add_group_member(group_.id, carol_.id), IsOk());  // already a member: no event
  const auto entries = entries_of(kHelpdesk, "membership");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].at("id").as_string(), group_.id);
  const json::value& value = entries[0].at("changes").at(0).at("value");
  EXPECT_EQ(value.at("member"), (json::value{{"id", scoped(kHelpdesk, carol_)}, {"name", "Carol Diaz"}}));
  EXPECT_EQ(value.at("community").at("id").as_string(), community_.id);
  EXPECT_EQ(value.at("verb").as_string(), "add");
  EXPECT_TRUE(value.at("update_time").is_string());
  EXPECT_TRUE(entries_of(kTriage, "membership").empty());  // not subscribed to membership
  EXPECT_TRUE(settle(kElsewhere).empty());                 // installed in another community
}

// --- install and uninstall ----------------------------------------------------------------------

TEST_F(ActionsTest, UninstallRevokesTheTokenThenSendsTheDeauthorization) {
  const Install before = *state_->install_of(kHelpdesk, community_.id);
  auto removed = actions_->uninstall(kHelpdesk, community_.id, admin_.id);
  ASSERT_THAT(removed, IsOk());
  EXPECT_FALSE(state_->install_by_token(before.access_token).has_value());

  ASSERT_TRUE(app_.wait_for_requests("/deauth", 1));
  auto form = http::parse_form(app_.requests("/deauth").front().body);
  ASSERT_THAT(form, IsOk());
  auto verified = core::verify_signed_request(form->find("signed_request").value_or(""), Secret(kSecret),
                                              clock_.unix_seconds());
  ASSERT_THAT(verified, IsOk());
  EXPECT_EQ(verified->payload.at("community_id").as_string(), community_.id);
  EXPECT_EQ(verified->payload.at("user_id").as_string(), scoped(kHelpdesk, admin_));

  // No more events for the uninstalled app.
  ASSERT_THAT(actions_->post(ana_.id, group_.id, "after uninstall"), IsOk());
  EXPECT_EQ(entries_of(kTriage, "posts").size(), 1u);
  EXPECT_TRUE(received_entries(app_, std::string(kHelpdesk)).empty());
}

TEST_F(ActionsTest, OnlyAnAdministratorOfTheCommunityCanUninstall) {
  EXPECT_THAT(actions_->uninstall(kHelpdesk, community_.id, ana_.id), HasError(ErrorCode::kPermissionDenied));
  EXPECT_THAT(actions_->uninstall(kHelpdesk, community_.id, other_admin_.id), HasError(ErrorCode::kPermissionDenied));
  EXPECT_THAT(actions_->uninstall(kElsewhere, community_.id, admin_.id), HasError(ErrorCode::kNotFound));
  EXPECT_TRUE(state_->install_of(kHelpdesk, community_.id).has_value());
  EXPECT_THAT(actions_->install(kHelpdesk, ana_.id), HasError(ErrorCode::kPermissionDenied));
  EXPECT_TRUE(app_.requests("/deauth").empty());
}

// --- hostile input ------------------------------------------------------------------------------

TEST_F(ActionsTest, ChatRejectsUnknownIdsStrangersAndBadText) {
  const Thread thread = chat_with(ana_, helpdesk_page_);
  EXPECT_THAT(actions_->send_message("999999", thread.id, "x"), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(actions_->send_message(ana_.id, "999999", "x"), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(actions_->send_message(bob_.id, thread.id, "x"), HasError(ErrorCode::kPermissionDenied));
  EXPECT_THAT(actions_->send_message(ana_.id, thread.id, ""), HasError(ErrorCode::kInvalidArgument));
  EXPECT_THAT(actions_->send_message(ana_.id, thread.id, "bad \xC3\x28 utf8"), HasError(ErrorCode::kInvalidArgument));
  EXPECT_THAT(actions_->send_message(ana_.id, thread.id, std::string(kMaxChatTextCharacters + 1, 'a')),
              HasError(ErrorCode::kTooLarge));
  EXPECT_THAT(actions_->send_message(ana_.id, thread.id, std::string(10 * 1024 * 1024, 'a')),
              HasError(ErrorCode::kTooLarge));
  EXPECT_THAT(actions_->press_quick_reply(ana_.id, thread.id, "m_nope", 0), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(actions_->press_postback(ana_.id, thread.id, "m_nope", 0), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(actions_->mark_read(bob_.id, thread.id), HasError(ErrorCode::kPermissionDenied));
  EXPECT_THAT(actions_->open_chat(ana_.id, elsewhere_page_), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(actions_->open_chat(ana_.id, "not-a-page"), HasError(ErrorCode::kNotFound));
  EXPECT_TRUE(state_->messages(thread.id).empty());

  // The longest allowed text, in two-byte characters, is accepted; it is the only thing sent.
  std::string longest;
  for (std::size_t i = 0; i < kMaxChatTextCharacters; ++i) longest += "é";
  ASSERT_THAT(actions_->send_message(ana_.id, thread.id, longest), IsOk());
  const auto entries = entries_of(kHelpdesk, "messages");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].at("messaging").at(0).at("message").at("text").as_string(), longest);
}

TEST_F(ActionsTest, FeedRejectsUnknownIdsOutsidersAndBadText) {
  EXPECT_THAT(actions_->post("999999", group_.id, "x"), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(actions_->post(ana_.id, "999999", "x"), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(actions_->post(carol_.id, group_.id, "not a member"), HasError(ErrorCode::kPermissionDenied));
  EXPECT_THAT(actions_->post(ana_.id, group_.id, std::string(kMaxPostCharacters + 1, 'a')),
              HasError(ErrorCode::kTooLarge));
  EXPECT_THAT(actions_->comment(ana_.id, "999999_1", "x"), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(actions_->add_group_member("999999", carol_.id), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(actions_->add_group_member(group_.id, "999999"), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(actions_->add_group_member(group_.id, other_admin_.id), HasError(ErrorCode::kPermissionDenied));
  auto post = actions_->post(ana_.id, group_.id, "ok");
  ASSERT_THAT(post, IsOk());
  EXPECT_THAT(actions_->comment(ana_.id, post->id, std::string(kMaxCommentCharacters + 1, 'a')),
              HasError(ErrorCode::kTooLarge));

  EXPECT_EQ(state_->feed(group_.id).size(), 1u);
  EXPECT_EQ(entries_of(kHelpdesk, "posts").size(), 1u);
  EXPECT_TRUE(entries_of(kHelpdesk, "comments").empty());
  EXPECT_TRUE(entries_of(kHelpdesk, "membership").empty());
}

}  // namespace
}  // namespace wik::emulator::testing
