#include "emulator/state/platform_state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include "emulator/state/adjustable_clock.h"
#include "emulator/state/app_registry.h"
#include "emulator/state/state_file.h"
#include "support/fake_clock.h"
#include "support/result_matchers.h"
#include "support/temp_dir.h"

namespace wik::emulator {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using wik::testing::HasError;
using wik::testing::IsOk;

// The seed's ids (docs/emulator.md lists them).
const Id kAcme = "100000000000001";
const Id kAda = "100000000000002";  // the system administrator
const Id kBruno = "100000000000003";
const Id kChloe = "100000000000004";
const Id kDieter = "100000000000005";
const Id kEmi = "100000000000006";
const Id kAllAcme = "100000000000007";
const Id kSupportTeam = "100000000000008";

const std::string kRedirect = "https://vendor.example/workplace/install";

App test_app(const Id& id, std::string secret = "s3cret") {
  App app;
  app.id = id;
  app.secret = std::move(secret);
  app.name = "Helpdesk " + id;
  app.redirect_url = kRedirect;
  app.deauthorize_url = "https://vendor.example/workplace/deauthorize";
  app.permissions = {"message", "bot_mention", "read_user_email"};
  return app;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class PlatformStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = PlatformState::open({}, clock_);
    ASSERT_THAT(opened, IsOk());
    state_ = std::move(opened).value();
    ASSERT_THAT(state_->register_app(test_app("1111")), IsOk());
    ASSERT_THAT(state_->register_app(test_app("2222", "other-secret")), IsOk());
  }

  Result<Install> install_with_code(const Id& app_id = "1111", const std::string& secret = "s3cret") {
    auto code = state_->issue_code(app_id, kAda, kRedirect, {});
    if (!code) return code.error();
    return state_->exchange_code(app_id, secret, code->code, kRedirect);
  }

  wik::testing::FakeClock clock_;
  std::unique_ptr<PlatformState> state_;
};

TEST_F(PlatformStateTest, SeedsOneCommunityWithAnAdministratorFivePeopleAndTwoGroups) {
  ASSERT_THAT(state_->communities(), SizeIs(1));
  EXPECT_EQ(state_->communities()[0].id, kAcme);
  EXPECT_EQ(state_->communities()[0].name, "Acme Corp");
  const auto people = state_->users(kAcme);
  ASSERT_THAT(people, SizeIs(5));
  std::set<std::string> locales;
  for (const User& person : people) locales.insert(person.locale);
  EXPECT_EQ(locales, (std::set<std::string>{"de_DE", "en_US", "fr_CA", "ja_JP", "pt_BR"}));
  EXPECT_TRUE(state_->user(kAda)->system_admin);
  EXPECT_FALSE(state_->user(kBruno)->system_admin);
  EXPECT_EQ(state_->user_by_email("chloe@acme.example")->id, kChloe);
  EXPECT_EQ(state_->group(kAllAcme)->members, (std::vector<Id>{kAda, kBruno, kChloe, kDieter, kEmi}));
  EXPECT_EQ(state_->group(kSupportTeam)->members, (std::vector<Id>{kAda, kChloe, kDieter}));
}

TEST_F(PlatformStateTest, CreatesCommunitiesPeopleAndGroupsWithFreshIds) {
  auto community = state_->create_community("Globex");
  ASSERT_THAT(community, IsOk());
  User fields;
  fields.name = "Hank Scorpio";
  fields.email = "hank@globex.example";
  auto hank = state_->create_user(community->id, fields);
  ASSERT_THAT(hank, IsOk());
  EXPECT_EQ(hank->locale, "en_US");
  EXPECT_THAT(state_->create_user(community->id, fields), HasError(ErrorCode::kConflict));
  EXPECT_THAT(state_->create_user("999", User{.name = "Nobody"}), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(state_->create_user(community->id, User{}), HasError(ErrorCode::kInvalidArgument, HasSubstr("name")));
  EXPECT_THAT(state_->create_user(community->id, User{.name = std::string(1000, 'x')}),
              HasError(ErrorCode::kInvalidArgument, HasSubstr("longer")));

  auto group = state_->create_group(community->id, "Villains", {hank->id, hank->id});
  ASSERT_THAT(group, IsOk());
  EXPECT_EQ(group->members, std::vector<Id>{hank->id});
  EXPECT_THAT(state_->create_group(community->id, "Mixed", {kAda}), HasError(ErrorCode::kPermissionDenied));
  EXPECT_THAT(state_->add_group_member(group->id, kAda), HasError(ErrorCode::kPermissionDenied));
  EXPECT_THAT(state_->add_group_member("404", kAda), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(state_->add_group_member(kSupportTeam, kEmi), IsOk());
  EXPECT_THAT(state_->group(kSupportTeam)->members, ElementsAre(kAda, kChloe, kDieter, kEmi));

  const std::set<Id> ids{community->id, hank->id, group->id, kAcme, kAda};
  EXPECT_EQ(ids.size(), 5u);
}

TEST_F(PlatformStateTest, RefusesAppsWithoutIdSecretOrName) {
  App app = test_app("3333");
  app.secret.clear();
  EXPECT_THAT(state_->register_app(app), HasError(ErrorCode::kInvalidArgument, HasSubstr("secret")));
  EXPECT_THAT(state_->register_app(test_app("12ab")), HasError(ErrorCode::kInvalidArgument, HasSubstr("decimal")));
  app = test_app("3333");
  app.permissions = {"Message"};
  EXPECT_THAT(state_->register_app(app), HasError(ErrorCode::kInvalidArgument, HasSubstr("lower-case")));
}

TEST_F(PlatformStateTest, ExchangesACodeOnceForAnInstallWithAToken) {
  auto code = state_->issue_code("1111", kAda, kRedirect, {"message"});
  ASSERT_THAT(code, IsOk());
  auto install = state_->exchange_code("1111", "s3cret", code->code, kRedirect);
  ASSERT_THAT(install, IsOk());
  EXPECT_EQ(install->community_id, kAcme);
  EXPECT_EQ(install->installed_by, kAda);
  EXPECT_EQ(install->permissions, std::vector<std::string>{"message"});
  EXPECT_FALSE(install->access_token.empty());
  EXPECT_EQ(state_->install_by_token(install->access_token)->id, install->id);
  EXPECT_EQ(state_->install_by_page(install->page_id)->id, install->id);
  EXPECT_THAT(state_->exchange_code("1111", "s3cret", code->code, kRedirect), HasError(ErrorCode::kConflict));
}

TEST_F(PlatformStateTest, CodesLiveThreeHundredSeconds) {
  auto fresh = state_->issue_code("1111", kAda, kRedirect, {});
  auto stale = state_->issue_code("1111", kAda, kRedirect, {});
  ASSERT_THAT(fresh, IsOk());
  ASSERT_THAT(stale, IsOk());
  clock_.advance(std::chrono::seconds(300));
  EXPECT_THAT(state_->exchange_code("1111", "s3cret", fresh->code, kRedirect), IsOk());
  clock_.advance(std::chrono::seconds(1));
  EXPECT_THAT(state_->exchange_code("1111", "s3cret", stale->code, kRedirect), HasError(ErrorCode::kExpired));
}

TEST_F(PlatformStateTest, CodesAreBoundToTheirAppAndRedirectUri) {
  auto code = state_->issue_code("1111", kAda, kRedirect, {});
  ASSERT_THAT(code, IsOk());
  EXPECT_THAT(state_->exchange_code("2222", "other-secret", code->code, kRedirect), HasError(ErrorCode::kMalformed));
  EXPECT_THAT(state_->exchange_code("1111", "s3cret", code->code, kRedirect + "/other"),
              HasError(ErrorCode::kInvalidArgument));
  // The failed attempts did not use the code up.
  EXPECT_THAT(state_->exchange_code("1111", "s3cret", code->code, kRedirect), IsOk());
}

TEST_F(PlatformStateTest, ExchangeChecksAppThenSecretThenCode) {
  auto code = state_->issue_code("1111", kAda, kRedirect, {});
  ASSERT_THAT(code, IsOk());
  EXPECT_THAT(state_->exchange_code("9999", "s3cret", code->code, kRedirect), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(state_->exchange_code("1111", "s3creT", code->code, kRedirect), HasError(ErrorCode::kBadSignature));
  EXPECT_THAT(state_->exchange_code("1111", "", "no-such-code", kRedirect), HasError(ErrorCode::kBadSignature));
  EXPECT_THAT(state_->exchange_code("1111", "s3cret", "no-such-code", kRedirect), HasError(ErrorCode::kMalformed));
}

TEST_F(PlatformStateTest, OnlyActiveSystemAdministratorsGetCodesOrInstall) {
  EXPECT_THAT(state_->issue_code("1111", kBruno, kRedirect, {}), HasError(ErrorCode::kPermissionDenied));
  EXPECT_THAT(state_->issue_code("1111", "404", kRedirect, {}), HasError(ErrorCode::kPermissionDenied));
  EXPECT_THAT(state_->install_directly("1111", kBruno), HasError(ErrorCode::kPermissionDenied));
  EXPECT_THAT(state_->issue_code("9999", kAda, kRedirect, {}), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(state_->issue_code("1111", kAda, "https://evil.example/", {}), HasError(ErrorCode::kInvalidArgument));
  EXPECT_THAT(state_->issue_code("1111", kAda, kRedirect, {"manage_accounts"}),
              HasError(ErrorCode::kInvalidArgument, HasSubstr("manage_accounts")));
}

TEST_F(PlatformStateTest, ReinstallKillsTheOldTokenAndKeepsInstallAndPage) {
  auto first = install_with_code();
  ASSERT_THAT(first, IsOk());
  auto second = state_->install_directly("1111", kAda);
  ASSERT_THAT(second, IsOk());
  EXPECT_NE(first->access_token, second->access_token);
  EXPECT_EQ(first->id, second->id);
  EXPECT_EQ(first->page_id, second->page_id);
  EXPECT_FALSE(state_->install_by_token(first->access_token));
  EXPECT_TRUE(state_->install_by_token(second->access_token));
  EXPECT_THAT(state_->installs(kAcme), SizeIs(1));
}

TEST_F(PlatformStateTest, UninstallKillsTheTokenAtOnce) {
  auto install = install_with_code();
  ASSERT_THAT(install, IsOk());
  state_->set_messenger_profile(install->id, {{"greeting", "hi"}});
  auto removed = state_->uninstall("1111", kAcme);
  ASSERT_THAT(removed, IsOk());
  EXPECT_EQ(removed->id, install->id);
  EXPECT_FALSE(state_->install_by_token(install->access_token));
  EXPECT_FALSE(state_->install_of("1111", kAcme));
  EXPECT_FALSE(state_->install_by_page(install->page_id));
  EXPECT_TRUE(state_->messenger_profile(install->id).empty());
  EXPECT_THAT(state_->uninstall("1111", kAcme), HasError(ErrorCode::kNotFound));
  // A later install gets a new install id but the same bot page.
  auto again = state_->install_directly("1111", kAda);
  ASSERT_THAT(again, IsOk());
  EXPECT_NE(again->id, install->id);
  EXPECT_EQ(again->page_id, install->page_id);
}

TEST_F(PlatformStateTest, ScopedIdsDifferPerAppAndStayStable) {
  const Id for_first = state_->scoped_user_id("1111", kBruno);
  const Id for_second = state_->scoped_user_id("2222", kBruno);
  EXPECT_NE(for_first, for_second);
  EXPECT_NE(for_first, kBruno);
  EXPECT_NE(state_->scoped_user_id("1111", kChloe), for_first);
  EXPECT_EQ(state_->scoped_user_id("1111", kBruno), for_first);
  EXPECT_EQ(state_->resolve_scoped_user("1111", for_first), kBruno);
  EXPECT_FALSE(state_->resolve_scoped_user("2222", for_first));
  EXPECT_FALSE(state_->resolve_scoped_user("1111", kBruno));
}

TEST_F(PlatformStateTest, SubscriptionsMergeFieldsAndUnsubscribeRemovesThem) {
  state_->subscribe("1111", {"page", "https://a.example/hook", "v1", {"messages"}});
  state_->subscribe("1111", {"page", "https://b.example/hook", "v2", {"messaging_postbacks"}});
  state_->subscribe("1111", {"group", "https://b.example/hook", "v2", {"posts", "comments"}});
  auto subscriptions = state_->subscriptions("1111");
  ASSERT_THAT(subscriptions, SizeIs(2));
  EXPECT_EQ(subscriptions[1].object, "page");
  EXPECT_EQ(subscriptions[1].callback_url, "https://b.example/hook");
  EXPECT_EQ(subscriptions[1].fields, (std::set<std::string>{"messages", "messaging_postbacks"}));
  state_->unsubscribe("1111", "group", {"posts"});
  EXPECT_EQ(state_->subscriptions("1111")[0].fields, std::set<std::string>{"comments"});
  state_->unsubscribe("1111", "page", {});
  EXPECT_THAT(state_->subscriptions("1111"), SizeIs(1));
  state_->unsubscribe("1111", "", {});
  EXPECT_THAT(state_->subscriptions("1111"), SizeIs(0));
  EXPECT_THAT(state_->subscriptions("2222"), SizeIs(0));
}

TEST_F(PlatformStateTest, ChatThreadsHoldPeopleAndBotMessages) {
  auto first = state_->install_directly("1111", kAda);
  auto second = state_->install_directly("2222", kAda);
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  const Thread direct = state_->direct_thread(kBruno, first->page_id);
  EXPECT_EQ(state_->direct_thread(kBruno, first->page_id).id, direct.id);
  EXPECT_EQ(direct.community_id, kAcme);
  EXPECT_THAT(state_->add_message(direct.id, kBruno, false, {{"text", "hello"}}), IsOk());
  EXPECT_THAT(state_->add_message(direct.id, first->page_id, true, {{"text", "hi Bruno"}}), IsOk());
  EXPECT_THAT(state_->add_message(direct.id, kChloe, false, {{"text", "intruder"}}), HasError(ErrorCode::kPermissionDenied));
  EXPECT_THAT(state_->add_message(direct.id, second->page_id, true, {{"text", "wrong bot"}}),
              HasError(ErrorCode::kPermissionDenied));
  EXPECT_THAT(state_->add_message("404", kBruno, false, {{"text", "x"}}), HasError(ErrorCode::kNotFound));

  auto group = state_->create_group_thread(second->page_id, {kChloe, kDieter, kChloe});
  ASSERT_THAT(group, IsOk());
  EXPECT_TRUE(group->group);
  EXPECT_EQ(group->participants, (std::vector<Id>{kChloe, kDieter}));
  EXPECT_THAT(state_->add_message(group->id, second->page_id, true, {{"text", "hello all"}}), IsOk());
  EXPECT_THAT(state_->create_group_thread("404", {kChloe}), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(state_->create_group_thread(second->page_id, {}), HasError(ErrorCode::kInvalidArgument));

  const auto history = state_->messages(direct.id);
  ASSERT_THAT(history, SizeIs(2));
  EXPECT_EQ(history[0].message.at("text"), "hello");
  EXPECT_TRUE(history[1].from_bot);
  EXPECT_NE(history[0].mid, history[1].mid);
  EXPECT_THAT(state_->bot_messages(std::nullopt), SizeIs(2));
  ASSERT_THAT(state_->bot_messages(Id("2222")), SizeIs(1));
  EXPECT_EQ(state_->bot_messages(Id("2222"))[0].message.at("text"), "hello all");
  EXPECT_THAT(state_->threads_of_user(kChloe), SizeIs(1));
}

TEST_F(PlatformStateTest, FeedsTakePostsAndOneLevelOfComments) {
  auto install = state_->install_directly("1111", kAda);
  ASSERT_THAT(install, IsOk());
  auto older = state_->add_post(kSupportTeam, kChloe, false, "first");
  clock_.advance(std::chrono::seconds(1));
  auto newer = state_->add_post(kSupportTeam, install->page_id, true, "second");
  ASSERT_THAT(older, IsOk());
  ASSERT_THAT(newer, IsOk());
  EXPECT_THAT(older->id, ::testing::StartsWith(kSupportTeam + "_"));
  const auto feed = state_->feed(kSupportTeam);
  ASSERT_THAT(feed, SizeIs(2));
  EXPECT_EQ(feed[0].id, newer->id);
  EXPECT_THAT(state_->add_post(kSupportTeam, kBruno, false, "not a member"), HasError(ErrorCode::kPermissionDenied));
  EXPECT_THAT(state_->add_post(kSupportTeam, kChloe, false, ""), HasError(ErrorCode::kInvalidArgument));
  EXPECT_THAT(state_->add_post("404", kChloe, false, "x"), HasError(ErrorCode::kNotFound));

  auto comment = state_->add_comment(older->id, kDieter, false, "a comment");
  ASSERT_THAT(comment, IsOk());
  auto reply = state_->add_comment(comment->id, install->page_id, true, "a reply");
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->parent_id, comment->id);
  EXPECT_EQ(reply->post_id, older->id);
  EXPECT_THAT(state_->add_comment(reply->id, kDieter, false, "too deep"), HasError(ErrorCode::kInvalidArgument));
  EXPECT_THAT(state_->add_comment("404", kDieter, false, "x"), HasError(ErrorCode::kNotFound));
  EXPECT_THAT(state_->comments(older->id), ElementsAre(::testing::Field(&Comment::id, comment->id)));
  EXPECT_THAT(state_->comments(comment->id), ElementsAre(::testing::Field(&Comment::id, reply->id)));
  EXPECT_EQ(state_->comment(reply->id)->message, "a reply");
}

TEST_F(PlatformStateTest, MessengerProfileMergesAndDeletesFields) {
  state_->set_messenger_profile("42", {{"greeting", "hi"}, {"get_started", {{"payload", "GO"}}}});
  state_->set_messenger_profile("42", {{"greeting", "hello"}});
  EXPECT_EQ(state_->messenger_profile("42").at("greeting"), "hello");
  state_->delete_messenger_profile_fields("42", {"greeting"});
  EXPECT_EQ(state_->messenger_profile("42"), (boost::json::object{{"get_started", {{"payload", "GO"}}}}));
}

TEST_F(PlatformStateTest, StaysConsistentUnderConcurrentUse) {
  auto install = state_->install_directly("1111", kAda);
  ASSERT_THAT(install, IsOk());
  constexpr int kThreads = 4;
  constexpr int kEach = 50;
  std::vector<std::thread> workers;
  std::vector<std::vector<Id>> minted(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      const Thread thread = state_->direct_thread(kBruno, install->page_id);
      for (int i = 0; i < kEach; ++i) {
        User fields;
        fields.name = "Worker " + std::to_string(t) + "." + std::to_string(i);
        auto user = state_->create_user(kAcme, fields);
        if (user) minted[static_cast<std::size_t>(t)].push_back(user->id);
        minted[static_cast<std::size_t>(t)].push_back(state_->scoped_user_id("2222", user->id));
        (void)state_->add_message(thread.id, kBruno, false, {{"text", "x"}});
        (void)state_->install_directly("1111", kAda);
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  std::set<Id> unique;
  for (const auto& ids : minted) unique.insert(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), static_cast<std::size_t>(2 * kThreads * kEach));
  EXPECT_THAT(state_->messages(state_->direct_thread(kBruno, install->page_id).id), SizeIs(kThreads * kEach));
  EXPECT_THAT(state_->installs(kAcme), SizeIs(1));
}

// --- persistence ---------------------------------------------------------------------------------

class PersistenceTest : public ::testing::Test {
 protected:
  PlatformOptions options() const {
    PlatformOptions options;
    options.state_file = file_;
    options.save_interval = std::chrono::milliseconds(10);
    return options;
  }

  wik::testing::FakeClock clock_;
  wik::testing::TempDir dir_;
  std::filesystem::path file_ = dir_.path() / "state.json";
};

TEST_F(PersistenceTest, RestartKeepsEverything) {
  Install install;
  Id scoped;
  Id group_id;
  std::string pending_code;
  {
    auto state = PlatformState::open(options(), clock_);
    ASSERT_THAT(state, IsOk());
    App app = test_app("1111");
    app.icon_png = std::string("\x89PNG\r\n\x1a\n\0binary", 15);
    ASSERT_THAT((*state)->register_app(app), IsOk());
    auto installed = (*state)->install_directly("1111", kAda);
    ASSERT_THAT(installed, IsOk());
    install = *installed;
    scoped = (*state)->scoped_user_id("1111", kEmi);
    (*state)->subscribe("1111", {"page", "https://a.example/hook", "v1", {"messages"}});
    const Thread thread = (*state)->direct_thread(kEmi, install.page_id);
    ASSERT_THAT((*state)->add_message(thread.id, install.page_id, true, {{"text", "こんにちは"}}), IsOk());
    auto group = (*state)->create_group(kAcme, "Café ☕", {kEmi});
    ASSERT_THAT(group, IsOk());
    group_id = group->id;
    auto post = (*state)->add_post(group_id, kEmi, false, "post");
    ASSERT_THAT(post, IsOk());
    ASSERT_THAT((*state)->add_comment(post->id, kEmi, false, "comment"), IsOk());
    (*state)->set_messenger_profile(install.id, {{"greeting", "hi"}});
    auto code = (*state)->issue_code("1111", kAda, kRedirect, {});
    ASSERT_THAT(code, IsOk());
    pending_code = code->code;
  }
  auto state = PlatformState::open(options(), clock_);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ((*state)->app("1111")->icon_png, std::string("\x89PNG\r\n\x1a\n\0binary", 15));
  EXPECT_EQ((*state)->install_by_token(install.access_token)->page_id, install.page_id);
  EXPECT_EQ((*state)->scoped_user_id("1111", kEmi), scoped);
  EXPECT_EQ((*state)->resolve_scoped_user("1111", scoped), kEmi);
  EXPECT_THAT((*state)->subscriptions("1111"), SizeIs(1));
  const Thread thread = (*state)->direct_thread(kEmi, install.page_id);
  ASSERT_THAT((*state)->messages(thread.id), SizeIs(1));
  EXPECT_EQ((*state)->messages(thread.id)[0].message.at("text"), "こんにちは");
  EXPECT_EQ((*state)->group(group_id)->name, "Café ☕");
  ASSERT_THAT((*state)->feed(group_id), SizeIs(1));
  EXPECT_THAT((*state)->comments((*state)->feed(group_id)[0].id), SizeIs(1));
  EXPECT_EQ((*state)->messenger_profile(install.id).at("greeting"), "hi");
  EXPECT_THAT((*state)->exchange_code("1111", "s3cret", pending_code, kRedirect), IsOk());
  // New ids continue after the old ones.
  auto community = (*state)->create_community("Globex");
  ASSERT_THAT(community, IsOk());
  EXPECT_GT(community->id, group_id);
}

TEST_F(PersistenceTest, WritesTheFileWithModeSixHundredAndAFormatVersion) {
  auto state = PlatformState::open(options(), clock_);
  ASSERT_THAT(state, IsOk());
  struct stat info {};
  ASSERT_EQ(::stat(file_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  const auto document = boost::json::parse(read_file(file_));
  EXPECT_EQ(document.at("format"), "wik-emulator-state");
  EXPECT_EQ(document.at("version"), 1);
}

TEST_F(PersistenceTest, SavesChangesInTheBackground) {
  auto state = PlatformState::open(options(), clock_);
  ASSERT_THAT(state, IsOk());
  ASSERT_THAT((*state)->create_community("Initech"), IsOk());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (read_file(file_).find("Initech") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_THAT(read_file(file_), HasSubstr("Initech"));
}

TEST_F(PersistenceTest, ACorruptStateFileIsReportedAndLeftUntouched) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{not json", "not JSON"},
      {R"({"format":"other","version":1})", "state.format"},
      {R"({"format":"wik-emulator-state","version":2})", "state.version"},
      {R"({"format":"wik-emulator-state","version":1,"next_id":5,"communities":[{"id":7}]})", "communities[0].id"},
      {R"({"format":"wik-emulator-state","version":1,"next_id":5,"communities":[],"users":[{"id":"1","community_id":"9"}]})",
       "users[0]"},
  };
  for (const auto& [contents, named] : cases) {
    std::ofstream(file_, std::ios::trunc) << contents;
    EXPECT_THAT(PlatformState::open(options(), clock_), HasError(ErrorCode::kMalformed, HasSubstr(named))) << contents;
    EXPECT_EQ(read_file(file_), contents);
  }
}

TEST_F(PersistenceTest, RejectsRepeatedIdsAndDanglingReferences) {
  StateSnapshot snapshot;
  snapshot.communities["1"] = {"1", "A"};
  snapshot.groups["2"] = {"2", "1", "G", "OPEN", {}};
  snapshot.posts["2_3"] = {"2_3", "2", "1", false, "hi", 0};
  auto document = encode_state(snapshot);
  EXPECT_THAT(decode_state(document), IsOk());
  document.at("posts").as_array()[0].as_object()["group_id"] = "404";
  EXPECT_THAT(decode_state(document), HasError(ErrorCode::kMalformed, HasSubstr("posts[0].group_id")));
  auto repeated = encode_state(snapshot);
  repeated.at("communities").as_array().push_back(repeated.at("communities").as_array()[0]);
  EXPECT_THAT(decode_state(repeated), HasError(ErrorCode::kMalformed, HasSubstr("communities[1].id")));
}

TEST_F(PersistenceTest, FailedWriteLeavesThePreviousFile) {
  std::ofstream(file_) << "previous";
  ASSERT_THAT(write_state_file(dir_.path() / "missing-dir" / "state.json", {}), HasError(ErrorCode::kUnavailable));
  EXPECT_THAT(write_state_file(file_, boost::json::object{{"a", 1}}), IsOk());
  EXPECT_EQ(read_file(file_), R"({"a":1})");
  EXPECT_THAT(std::distance(std::filesystem::directory_iterator(dir_.path()), {}), 1);
}

// --- clock and app registry ----------------------------------------------------------------------

TEST(AdjustableClockTest, AddsTheAdvancedOffsetToItsBase) {
  wik::testing::FakeClock base;
  AdjustableClock clock(base);
  EXPECT_EQ(clock.now(), base.now());
  clock.advance(std::chrono::minutes(15));
  base.advance(std::chrono::seconds(1));
  EXPECT_EQ(clock.now(), base.now() + std::chrono::minutes(15));
  EXPECT_EQ(clock.offset(), std::chrono::minutes(15));
}

class AppRegistryTest : public ::testing::Test {
 protected:
  wik::testing::TempDir dir_;
};

TEST_F(AppRegistryTest, LoadsTheKitsManifestIgnoringOtherKeys) {
  dir_.write_file("icon.png", std::string("\x89PNG\r\n\x1a\nrest", 12));
  const auto manifest = dir_.write_file("app.toml", R"(
id = "1111222233334444"
name = "Helpdesk"
publisher = "Example Ltd"
tagline = "Tickets from Work Chat"
icon = "icon.png"
redirect_url = "https://vendor.example/workplace/install"
deauthorize_url = "https://vendor.example/workplace/deauthorize"
permissions = ["message", "bot_mention"]
description = "ignored"
[webhooks]
page = ["messages"]
)");
  auto app = load_app(manifest, "the-secret");
  ASSERT_THAT(app, IsOk());
  EXPECT_EQ(app->id, "1111222233334444");
  EXPECT_EQ(app->name, "Helpdesk");
  EXPECT_EQ(app->publisher, "Example Ltd");
  EXPECT_EQ(app->tagline, "Tickets from Work Chat");
  EXPECT_EQ(app->icon_png.size(), 12u);
  EXPECT_EQ(app->redirect_url, "https://vendor.example/workplace/install");
  EXPECT_EQ(app->deauthorize_url, "https://vendor.example/workplace/deauthorize");
  EXPECT_EQ(app->permissions, (std::vector<std::string>{"message", "bot_mention"}));
  EXPECT_EQ(app->secret, "the-secret");
}

TEST_F(AppRegistryTest, NamesTheKeyThatIsWrong) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"(name = "x")", "id: missing"},
      {"id = 12\nname = \"x\"", "id: expected a string"},
      {"id = \"1\"\nname = \"x\"\npermissions = \"message\"", "permissions: expected an array"},
      {"id = \"1\"\nname = \"x\"\nicon = \"missing.png\"", "icon:"},
      {"id = \"1\"\nname = \"x\"\nicon = \"app.toml\"", "icon: not a PNG"},
      {"id = \"1\"\nname = [", "invalid TOML"},
  };
  for (const auto& [contents, named] : cases) {
    const auto manifest = dir_.write_file("app.toml", contents);
    EXPECT_THAT(load_app(manifest, "s"), HasError(ErrorCode::kConfig, HasSubstr(named))) << contents;
  }
  EXPECT_THAT(load_app(dir_.path() / "none.toml", "s"), HasError(ErrorCode::kConfig));
}

TEST_F(AppRegistryTest, ReadsTheSecretWithoutItsNewline) {
  EXPECT_EQ(read_app_secret(dir_.write_file("secret", "abc\n")).value(), "abc");
  EXPECT_THAT(read_app_secret(dir_.write_file("empty", "\n")), HasError(ErrorCode::kConfig, HasSubstr("empty")));
  EXPECT_THAT(read_app_secret(dir_.write_file("big", std::string(5000, 'x'))), HasError(ErrorCode::kConfig));
  EXPECT_THAT(read_app_secret(dir_.path() / "none"), HasError(ErrorCode::kConfig));
}

}  // namespace
}  // namespace wik::emulator
