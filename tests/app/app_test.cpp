// wik::App end to end against the real emulator on loopback (app_fixture.h): a person's chat
// message becomes a signed webhook, is stored and dispatched to the app's handler, whose reply
// reaches the emulator through the Send API; handlers keep rows in the app's own tables; admin
// pages sit behind the vendor's sign-in; handlers read the community settings admins save there; an
// uninstall revokes the install and purges every row.
#include <mutex>

#include "app/app_fixture.h"
#include "app/community_data.h"
#include "install/test_browser.h"

namespace wik {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using wik::testing::AppTest;
using wik::testing::eventually;
using wik::testing::HasError;
using wik::testing::IsOk;
using wik::testing::kAppId;

boost::asio::awaitable<Result<void>> echo(Context& context, const Message& message) {
  const Reply reply = Reply::text("You said: " + message.text).quick_reply("Again", "AGAIN").quick_reply("Stop", "STOP");
  co_return co_await context.reply(reply);
}

TEST_F(AppTest, AChatMessageReachesTheHandlerAndItsReplyReachesThePerson) {
  start_installed_app([](App& app) { app.on_message(echo); });
  const auto opened = control("/users/" + person_id_ + "/open_chat", {{"page_id", install_.page_id}});
  ASSERT_EQ(opened.status, 200u) << opened.body;
  const std::string thread_id(json::parse(opened.body).as_object().at("id").as_string());
  const auto sent = control("/users/" + person_id_ + "/messages", {{"thread_id", thread_id}, {"text", "my laptop won't start"}});
  ASSERT_EQ(sent.status, 200u) << sent.body;

  ASSERT_TRUE(eventually([&] { return !emulator_->state().bot_messages(std::string(kAppId)).empty(); }))
      << "the bot's reply never reached the emulator";
  const auto replies = emulator_->state().bot_messages(std::string(kAppId));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].thread_id, thread_id);
  const auto& message = replies[0].message.as_object();
  EXPECT_EQ(message.at("text"), "You said: my laptop won't start");
  EXPECT_EQ(message.at("quick_replies").as_array().size(), 2u);
}

TEST_F(AppTest, UninstallRevokesAtOnceAndPurgesTheCommunity) {
  start_installed_app([](App& app) { app.on_message(echo); });
  const auto uninstalled = control("/apps/" + std::string(kAppId) + "/uninstall", {{"admin_id", admin_id_}});
  ASSERT_EQ(uninstalled.status, 200u) << uninstalled.body;

  // The purge runs in the background: eventually the community has no installation left at all.
  auto database = app::open_database(config_);
  ASSERT_THAT(database, IsOk());
  auto store =
      store::Store::open(std::move(*database), core::KeyRing::parse(config_.keys.ring->expose()).value(), clock_);
  ASSERT_THAT(store, IsOk());
  EXPECT_TRUE(eventually([&] {
    return !(*store)->community(install_.community_id)->installation().ok();
  })) << "the community's install was not purged";
  EXPECT_THAT((*store)->community(install_.community_id)->installation(), HasError(ErrorCode::kNotFound));
  const auto jobs = (*store)->list_purge_jobs(store::PurgeState::kDone);
  ASSERT_THAT(jobs, IsOk());
  EXPECT_EQ(jobs->size(), 1u);
}

constexpr const char* kNotesSchema =
    "CREATE TABLE IF NOT EXISTS notes (community_id TEXT NOT NULL, body TEXT NOT NULL)";

// Keeps each message as a note of its community and answers with the community's note count.
boost::asio::awaitable<Result<void>> keep_note(Context& context, const Message& message) {
  std::string insert = "INSERT INTO notes (community_id, body) VALUES ($1, $2)";
  DataValues values{message.text};
  auto inserted = co_await context.data().execute(std::move(insert), std::move(values));
  if (!inserted.ok()) co_return inserted.error();
  std::string count = "SELECT COUNT(*) FROM notes WHERE community_id = $1";
  auto rows = co_await context.data().query(std::move(count));
  if (!rows.ok()) co_return rows.error();
  const Reply reply = Reply::text(std::to_string(rows->front().integer(0)) + " note(s)");
  co_return co_await context.reply(reply);
}

TEST(CommunityParameterTest, AStatementMustUseDollarOneItself) {
  EXPECT_TRUE(app::uses_community_parameter("SELECT 1 FROM t WHERE community_id = $1"));
  EXPECT_TRUE(app::uses_community_parameter("INSERT INTO t VALUES ($1, $2)"));
  EXPECT_TRUE(app::uses_community_parameter("WHERE c = $10 OR community_id = $1"));
  EXPECT_FALSE(app::uses_community_parameter("SELECT * FROM t WHERE a = $10"));
  EXPECT_FALSE(app::uses_community_parameter("SELECT * FROM t"));
  EXPECT_FALSE(app::uses_community_parameter(""));
}

TEST_F(AppTest, HandlersKeepRowsInTheAppsOwnTableAndTheUninstallPurgesThemAndRunsItsHandler) {
  std::mutex mutex;
  std::vector<std::string> uninstalled;
  start_installed_app([&](App& app) {
    app.schema(kNotesSchema).register_table("notes", "community_id").on_message(keep_note);
    app.on_uninstall([&](Context& context, const Uninstall& event) -> boost::asio::awaitable<Result<void>> {
      const std::lock_guard lock(mutex);
      uninstalled.push_back(event.community_id + "/" + context.community_id());
      co_return ok_result();
    });
  });
  person_writes("first");
  ASSERT_TRUE(eventually([&] { return bot_texts().size() == 1; }));
  person_writes("second");
  ASSERT_TRUE(eventually([&] { return bot_texts().size() == 2; }));
  EXPECT_THAT(bot_texts(), ::testing::ElementsAre("1 note(s)", "2 note(s)"));
  EXPECT_EQ(count_rows("notes"), 2);

  const auto uninstalled_now = control("/apps/" + std::string(kAppId) + "/uninstall", {{"admin_id", admin_id_}});
  ASSERT_EQ(uninstalled_now.status, 200u) << uninstalled_now.body;
  EXPECT_TRUE(eventually([&] { return count_rows("notes") == 0; })) << "the app's rows were not purged";
  EXPECT_TRUE(eventually([&] {
    const std::lock_guard lock(mutex);
    return uninstalled.size() == 1;
  }));
  const std::lock_guard lock(mutex);
  EXPECT_THAT(uninstalled, ::testing::ElementsAre(install_.community_id + "/" + install_.community_id));
}

TEST_F(AppTest, AStatementWithoutTheCommunityParameterIsRefusedAndChangesNothing) {
  std::mutex mutex;
  std::optional<Error> refused;
  start_installed_app([&](App& app) {
    app.schema(kNotesSchema).register_table("notes", "community_id");
    app.on_message([&](Context& context, const Message&) -> boost::asio::awaitable<Result<void>> {
      std::string every_community = "DELETE FROM notes";
      auto deleted = co_await context.data().execute(std::move(every_community));
      const std::lock_guard lock(mutex);
      if (!deleted.ok()) refused = deleted.error();
      co_return ok_result();
    });
  });
  auto store = open_kit_store();
  ASSERT_NE(store, nullptr);
  person_writes("delete everything");
  ASSERT_TRUE(eventually([&] {
    const std::lock_guard lock(mutex);
    return refused.has_value();
  }));
  const std::lock_guard lock(mutex);
  EXPECT_EQ(refused->code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(refused->reason(), HasSubstr("$1"));
}

TEST_F(AppTest, WritesCommittedWithTheEventHappenOnceThoughItsFirstAttemptFailedAfterMakingThem) {
  std::mutex mutex;
  int attempts = 0;
  std::optional<Error> refused_in_hook;
  start_installed_app([&](App& app) {
    app.schema(kNotesSchema).register_table("notes", "community_id");
    app.on_message([&](Context& context, const Message& message) -> boost::asio::awaitable<Result<void>> {
      auto queued = context.commit_with_event([text = message.text](DataTransaction& tx) -> Result<void> {
        auto inserted = tx.execute("INSERT INTO notes (community_id, body) VALUES ($1, $2)", {text});
        if (!inserted) return inserted.error();
        return ok_result();
      });
      if (!queued.ok()) co_return queued.error();
      const std::lock_guard lock(mutex);
      if (++attempts == 1) co_return Error(ErrorCode::kUnavailable, "the first attempt fails after its write");
      co_return ok_result();
    });
    app.on_uninstall([&](Context& context, const Uninstall&) -> boost::asio::awaitable<Result<void>> {
      auto queued = context.commit_with_event([](DataTransaction&) { return ok_result(); });
      const std::lock_guard lock(mutex);
      if (!queued.ok()) refused_in_hook = queued.error();
      co_return ok_result();
    });
  });
  person_writes("once");
  ASSERT_TRUE(eventually([&] {
    const std::lock_guard lock(mutex);
    return attempts == 2;
  })) << "the failed handler was not retried";
  ASSERT_TRUE(eventually([&] { return count_rows("notes") == 1; }));
  EXPECT_EQ(count_rows("notes"), 1);  // the failed attempt's write was never committed

  // Outside a webhook event there is nothing to commit with.
  const auto uninstalled = control("/apps/" + std::string(kAppId) + "/uninstall", {{"admin_id", admin_id_}});
  ASSERT_EQ(uninstalled.status, 200u) << uninstalled.body;
  ASSERT_TRUE(eventually([&] {
    const std::lock_guard lock(mutex);
    return refused_in_hook.has_value();
  }));
  const std::lock_guard lock(mutex);
  EXPECT_EQ(refused_in_hook->code(), ErrorCode::kInvalidArgument);
}

TEST_F(AppTest, TheManifestCheckWarnsOfPermissionsNoRegisteredHandlerNeeds) {
  const auto manifest = dir_.write_file("app.toml", R"(id = "1111222233334444"
name = "Helpdesk"
permissions = ["message", "read_user_email", "read_group", "bot_mention"]
)");
  App app(config_);
  app.on_message(echo);
  auto lines = app.check_manifest(manifest.string());
  ASSERT_THAT(lines, IsOk());
  const auto warned = [&](std::string_view permission) {
    return std::ranges::any_of(*lines, [&](const std::string& line) {
      return line.starts_with("warning: permissions[") && line.find("\"" + std::string(permission) + "\"") != std::string::npos;
    });
  };
  EXPECT_FALSE(warned("message"));
  EXPECT_TRUE(warned("read_user_email"));
  EXPECT_TRUE(warned("read_group"));
  EXPECT_TRUE(warned("bot_mention"));
  EXPECT_TRUE(std::ranges::any_of(*lines, [](const std::string& line) { return line.starts_with("error: icon"); }))
      << "the review rules apply too";

  app.on_mention([](Context&, const Mention&) -> boost::asio::awaitable<Result<void>> { co_return ok_result(); })
      .uses_permission("read_user_email");
  lines = app.check_manifest(manifest.string());
  ASSERT_THAT(lines, IsOk());
  EXPECT_FALSE(warned("read_user_email"));
  EXPECT_FALSE(warned("bot_mention"));
  EXPECT_TRUE(warned("read_group"));

  EXPECT_THAT(app.check_manifest((dir_.path() / "nowhere.toml").string()), HasError(ErrorCode::kNotFound));
}

TEST_F(AppTest, AppDataOfACommunityThatIsNotInstalledIsRefused) {
  start_installed_app([](App& app) { app.schema(kNotesSchema).register_table("notes", "community_id"); });
  auto store = open_kit_store();
  ASSERT_NE(store, nullptr);
  auto scope = store->community("999999");
  ASSERT_THAT(scope, IsOk());
  EXPECT_THAT(scope->transact_app([](store::Transaction& tx) -> Result<void> {
    auto inserted = tx.execute("INSERT INTO notes (community_id, body) VALUES ('999999', 'x')");
    if (!inserted) return inserted.error();
    return ok_result();
  }),
              HasError(ErrorCode::kNotFound));
  EXPECT_EQ(count_rows("notes"), 0);
}

// An admin page that lists the installed communities and sends a person a message from a form.
boost::asio::awaitable<Result<AdminPage>> messages_page(AdminContext& admin, const AdminRequest& request) {
  if (request.post && request.field("everyone")) {
    const std::string community_id = request.field("community").value_or("");
    const Reply announcement = Reply::text(request.field("text").value_or(""));
    auto sent = co_await admin.message_everyone(community_id, announcement);
    if (!sent.ok()) co_return sent.error();
    co_return AdminPage::see_other("/admin/messages?sent=" + std::to_string(*sent));
  }
  if (request.post) {
    const std::string community_id = request.field("community").value_or("");
    auto community = co_await admin.community(community_id);
    if (!community.ok()) co_return community.error();
    const Reply reply = Reply::text(request.field("text").value_or(""));
    std::string person = request.field("person").value_or("");
    auto sent = co_await (*community)->send(std::move(person), reply);
    if (!sent.ok()) co_return sent.error();
    co_return AdminPage::see_other("/admin/messages?sent=1");
  }
  auto communities = co_await admin.communities();
  if (!communities.ok()) co_return communities.error();
  std::string body = "<ul>";
  for (const auto& community : *communities) body += "<li>" + html_escape(community.name) + "</li>";
  body += "</ul><form method=\"post\">" + request.csrf_field + "</form><p>" + html_escape(request.account_email) + "</p>";
  co_return AdminPage{.title = "Messages", .body_html = body, .redirect = {}};
}

class AdminPagesTest : public AppTest {
 protected:
  void SetUp() override {
    AppTest::SetUp();
    start_installed_app([](App& app) { app.name("Notes").admin_page("/admin/messages", "Messages", messages_page); });
    auto store = open_kit_store();
    ASSERT_NE(store, nullptr);
    ASSERT_THAT(store->create_account("ops@vendor.test", Secret("correct horse battery"), "admin"), IsOk());
    ASSERT_THAT(store->create_account("viewer@vendor.test", Secret("correct horse battery"), "member"), IsOk());
    base_ = "http://127.0.0.1:" + std::to_string(app_->port());
  }

  // Signs `email` in on `browser` and returns where the sign-in sent it.
  std::string sign_in(testing::TestBrowser& browser, const std::string& email, const std::string& next) {
    const auto signed_in = testing::sign_in(browser, email, "correct horse battery", next);
    EXPECT_EQ(signed_in.status, 303u) << signed_in.body;
    return std::string(signed_in.header("Location").value_or(""));
  }

  std::string base_;
};

TEST_F(AdminPagesTest, ABrowserWithoutASignedInAccountIsSentToSignInAndComesBack) {
  testing::TestBrowser browser(io_, *http_, base_);
  const auto page = browser.get("/admin/messages");
  EXPECT_EQ(page.status, 303u);
  EXPECT_EQ(page.header("Location").value_or(""), "/signin?next=%2Fadmin%2Fmessages");
  EXPECT_EQ(sign_in(browser, "ops@vendor.test", "/admin/messages"), "/admin/messages");
  const auto shown = browser.get("/admin/messages");
  EXPECT_EQ(shown.status, 200u);
  EXPECT_THAT(shown.body, HasSubstr("<li>Acme Corp</li>"));
  EXPECT_THAT(shown.body, HasSubstr("ops@vendor.test"));
  EXPECT_THAT(shown.body, HasSubstr("href=\"/admin\">Overview</a>"));
  EXPECT_THAT(shown.body, HasSubstr("Notes admin"));
}

TEST_F(AdminPagesTest, AnAccountWithoutTheAdminRoleIsTurnedAway) {
  testing::TestBrowser browser(io_, *http_, base_);
  sign_in(browser, "viewer@vendor.test", "/admin");
  EXPECT_EQ(browser.get("/admin").status, 403u);
  EXPECT_EQ(browser.get("/admin/messages").status, 403u);
}

TEST_F(AdminPagesTest, AFormSendsAMessageAsTheCommunityOnlyWithTheBrowsersCsrfToken) {
  testing::TestBrowser browser(io_, *http_, base_);
  sign_in(browser, "ops@vendor.test", "/admin/messages");
  const std::string person = emulator_->state().scoped_user_id(kAppId, person_id_);
  const testing::TestBrowser::Fields message{
      {"community", install_.community_id}, {"person", person}, {"text", "Your ticket is fixed"}};

  EXPECT_EQ(browser.post("/admin/messages", message).status, 403u);
  testing::TestBrowser::Fields forged = message;
  forged.emplace_back("csrf", browser.cookie("wik_csrf").value_or(""));
  EXPECT_EQ(browser.post("/admin/messages", forged, {{"Sec-Fetch-Site", "cross-site"}}).status, 403u);
  EXPECT_TRUE(bot_texts().empty());

  const auto sent = browser.post("/admin/messages", forged);
  EXPECT_EQ(sent.status, 303u) << sent.body;
  EXPECT_EQ(sent.header("Location").value_or(""), "/admin/messages?sent=1");
  EXPECT_THAT(bot_texts(), ::testing::ElementsAre("Your ticket is fixed"));

  testing::TestBrowser::Fields elsewhere = forged;
  elsewhere[0].second = "424242";
  const auto refused = browser.post("/admin/messages", elsewhere);
  EXPECT_EQ(refused.status, 404u);
  EXPECT_THAT(refused.body, HasSubstr("not installed"));
}

TEST_F(AdminPagesTest, OnlyAnAdminPageMessagesEveryMemberOfACommunity) {
  testing::TestBrowser browser(io_, *http_, base_);
  sign_in(browser, "ops@vendor.test", "/admin/messages");
  const auto sent = browser.post("/admin/messages", {{"csrf", browser.cookie("wik_csrf").value_or("")},
                                                     {"community", install_.community_id},
                                                     {"everyone", "1"},
                                                     {"text", "The VPN is back"}});
  EXPECT_EQ(sent.status, 303u) << sent.body;
  const std::size_t members = emulator_->state().users(community_id()).size();
  EXPECT_EQ(sent.header("Location").value_or(""), "/admin/messages?sent=" + std::to_string(members));
  EXPECT_EQ(bot_texts(), std::vector<std::string>(members, "The VPN is back"));
}

TEST_F(AdminPagesTest, TheOverviewListsInstallsAndQueuesAndNeverAToken) {
  testing::TestBrowser browser(io_, *http_, base_);
  sign_in(browser, "ops@vendor.test", "/admin");
  const auto overview = browser.get("/admin");
  ASSERT_EQ(overview.status, 200u);
  EXPECT_THAT(overview.body, HasSubstr("Acme Corp"));
  EXPECT_THAT(overview.body, HasSubstr(install_.community_id));
  EXPECT_THAT(overview.body, HasSubstr("Webhook queue"));
  EXPECT_THAT(overview.body, HasSubstr("Purges in progress"));
  for (const auto& response : browser.transcript()) {
    EXPECT_THAT(response.body, ::testing::Not(HasSubstr(install_.access_token)));
  }
}

TEST_F(AdminPagesTest, EachCommunityHasAPageWithItsHealthBehindTheRealGate) {
  testing::TestBrowser browser(io_, *http_, base_);
  const std::string page_path = "/admin/communities/" + install_.community_id;
  const auto anonymous = browser.get(page_path);
  EXPECT_EQ(anonymous.status, 303u);
  EXPECT_EQ(sign_in(browser, "ops@vendor.test", page_path), page_path);

  const auto overview = browser.get("/admin");
  ASSERT_EQ(overview.status, 200u);
  EXPECT_THAT(overview.body, HasSubstr("<a href=\"" + page_path + "\">Acme Corp</a>"));
  EXPECT_THAT(overview.body, HasSubstr("<td>active, not yet checked</td>"));

  const auto page = browser.get(page_path);
  ASSERT_EQ(page.status, 200u);
  EXPECT_THAT(page.body, HasSubstr("<dt>Community id</dt><dd>" + install_.community_id + "</dd>"));
  EXPECT_THAT(page.body, HasSubstr("<dt>Permissions granted</dt><dd><ul><li><code>message</code></li>"));
  EXPECT_EQ(browser.get("/admin/communities/424242").status, 404u);
  EXPECT_THAT(browser.get("/admin/communities/%3Cscript%3E").body, ::testing::Not(HasSubstr("<script>")));

  // A replay form posted without this browser's CSRF token is refused by the install part's check.
  const auto forged = browser.post("/admin/replay", {{"community", install_.community_id}, {"back", "community"}});
  EXPECT_EQ(forged.status, 403u);
  for (const auto& response : browser.transcript()) {
    EXPECT_THAT(response.body, ::testing::Not(HasSubstr(install_.access_token)));
  }
}

// Answers with the community's "greeting" setting, and what reading an undeclared one gives.
boost::asio::awaitable<Result<void>> greet(Context& context, const Message&) {
  std::string declared = "greeting";
  auto greeting = co_await context.setting(std::move(declared));
  if (!greeting.ok()) co_return greeting.error();
  std::string undeclared = "no_such_setting";
  auto missing = co_await context.setting(std::move(undeclared));
  const std::string answer = *greeting + " | " + (missing.ok() ? std::string("found") : std::string(to_string(missing.error().code())));
  const Reply reply = Reply::text(answer);
  co_return co_await context.reply(reply);
}

TEST_F(AppTest, AHandlerReadsItsCommunitysSettingAsTheAdminPageSavedIt) {
  start_installed_app([](App& app) {
    app.on_message(greet).community_setting(
        {.name = "greeting", .label = "Greeting", .help = "How the bot says hello.", .default_value = "Hello"});
  });
  auto store = open_kit_store();
  ASSERT_NE(store, nullptr);
  ASSERT_THAT(store->create_account("ops@vendor.test", Secret("correct horse battery"), "admin"), IsOk());

  person_writes("hi");
  ASSERT_TRUE(eventually([&] { return bot_texts().size() == 1; }));
  EXPECT_EQ(bot_texts()[0], "Hello | invalid_argument") << "the default, and an undeclared name is a mistake";

  // An admin saves the setting on the community's page, through the kit's real sign-in and CSRF gate.
  testing::TestBrowser browser(io_, *http_, "http://127.0.0.1:" + std::to_string(app_->port()));
  const std::string page_path = "/admin/communities/" + install_.community_id;
  const auto signed_in = testing::sign_in(browser, "ops@vendor.test", "correct horse battery", page_path);
  ASSERT_EQ(signed_in.status, 303u) << signed_in.body;
  const auto page = browser.get(page_path);
  ASSERT_EQ(page.status, 200u);
  EXPECT_THAT(page.body, HasSubstr("<label for=\"setting-greeting\">Greeting</label>"));
  EXPECT_THAT(page.body, HasSubstr("name=\"greeting\" value=\"Hello\""));
  EXPECT_EQ(browser.post(page_path + "/settings", {{"greeting", "Forged"}}).status, 403u);
  const auto saved = browser.post(page_path + "/settings", {{"csrf", browser.cookie("wik_csrf").value_or("")},
                                                            {"greeting", "Bonjour <tout> le monde"}});
  ASSERT_EQ(saved.status, 303u) << saved.body;
  EXPECT_EQ(saved.header("Location").value_or(""), page_path + "?saved=1");
  EXPECT_THAT(browser.get(page_path + "?saved=1").body, HasSubstr("value=\"Bonjour &lt;tout&gt; le monde\""));

  person_writes("hi again");
  ASSERT_TRUE(eventually([&] { return bot_texts().size() == 2; }));
  EXPECT_EQ(bot_texts()[1], "Bonjour <tout> le monde | invalid_argument");
}

TEST(AppSettingsDeathTest, ABadOrRepeatedSettingDeclarationIsFatal) {
  App app{Config{}};
  app.community_setting({.name = "support_hours", .label = "Support hours"});
  EXPECT_DEATH(app.community_setting({.name = "Support-Hours"}), "1-64 characters of a-z, 0-9 and _");
  EXPECT_DEATH(app.community_setting({.name = ""}), "1-64 characters");
  EXPECT_DEATH(app.community_setting({.name = std::string(65, 'a')}), "1-64 characters");
  EXPECT_DEATH(app.community_setting({.name = "support_hours"}), "declared twice");
  EXPECT_DEATH(app.community_setting({.name = "team", .max_length = 0}), "max_length must be 1 or more");
  EXPECT_DEATH(app.community_setting({.name = "team", .default_value = "a\nb"}), "not a value an admin could set");
  EXPECT_DEATH(app.community_setting({.name = "team", .default_value = "abc", .max_length = 2}),
               "not a value an admin could set");
}

TEST_F(AppTest, StartingWithoutTheVerifyTokenNamesIt) {
  config_.app.verify_token = Secret();
  App app(config_);
  EXPECT_THAT(app.start(), HasError(ErrorCode::kConfig, HasSubstr("app.verify_token")));
}

}  // namespace
}  // namespace wik
