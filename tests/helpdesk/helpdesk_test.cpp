// The helpdesk example end to end against the emulator (tests/app/app_fixture.h): a person's
// problem becomes a ticket with a category chosen by quick reply, chat commands work in the
// person's language, a mention in a group post opens a ticket and comments its link, the admin
// page answers in Work Chat, and an uninstall purges every ticket. Its catalogs are complete in
// all six languages.
#include <mutex>

#include "app/app_fixture.h"
#include "helpdesk.h"
#include "install/test_browser.h"

namespace wik {
namespace {

namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using wik::testing::AppTest;
using wik::testing::eventually;
using wik::testing::IsOk;
using wik::testing::kAppId;

Catalogs helpdesk_catalogs() { return Catalogs::load(WIK_HELPDESK_LOCALES_DIR).value(); }

TEST(HelpdeskCatalogsTest, EveryKeyIsTranslatedInEveryShippedLanguage) {
  auto catalogs = Catalogs::load(WIK_HELPDESK_LOCALES_DIR);
  ASSERT_THAT(catalogs, IsOk());
  EXPECT_THAT(catalogs->check(), IsOk());
  EXPECT_THAT(catalogs->locales(), ElementsAre("de", "en", "es", "fr", "ja", "pt"));
  for (const std::string& locale : catalogs->locales()) {
    EXPECT_LE(catalogs->text(locale, "helpdesk.quick.list").size(), 20u * 4) << locale;
    EXPECT_THAT(catalogs->text(locale, "helpdesk.list.header", {{"count", std::int64_t{2}}}), HasSubstr("2")) << locale;
  }
}

class HelpdeskTest : public AppTest {
 protected:
  void SetUp() override {
    AppTest::SetUp();
    page_fields_ = "messages,messaging_postbacks,mention";
    permissions_ = {"message", "bot_mention"};
    start_installed_app([](App& app) {
      helpdesk::install_helpdesk(app, helpdesk_catalogs(),
                                 {.public_url = "http://127.0.0.1:9", .support_contact = "support@helpdesk.test"});
    });
    for (const auto& user : emulator_->state().users(community_id())) {
      if (user.email == "chloe@acme.example") chloe_id_ = user.id;
    }
  }

  // The bot's messages in `thread_id`, in order.
  std::vector<emulator::ChatMessage> bot_messages_in(const std::string& thread_id) {
    std::vector<emulator::ChatMessage> out;
    for (auto& sent : emulator_->state().bot_messages(std::string(kAppId))) {
      if (sent.thread_id == thread_id) out.push_back(std::move(sent));
    }
    return out;
  }

  // Sends `text` as `person` in their chat with the bot and waits for `replies` more bot messages.
  std::vector<emulator::ChatMessage> say(const std::string& person, const std::string& text, std::size_t replies = 1) {
    const auto opened = control("/users/" + person + "/open_chat", {{"page_id", install_.page_id}});
    const std::string thread_id(json::parse(opened.body).as_object().at("id").as_string());
    const std::size_t before = bot_messages_in(thread_id).size();
    const auto sent = control("/users/" + person + "/messages", {{"thread_id", thread_id}, {"text", text}});
    EXPECT_EQ(sent.status, 200u) << sent.body;
    EXPECT_TRUE(eventually([&] { return bot_messages_in(thread_id).size() >= before + replies; })) << text;
    auto all = bot_messages_in(thread_id);
    return {all.begin() + static_cast<std::ptrdiff_t>(before), all.end()};
  }

  // Presses quick reply `index` of the bot's message `pressed` and waits for the bot's answer.
  std::vector<emulator::ChatMessage> press(const std::string& person, const emulator::ChatMessage& pressed,
                                           std::size_t index) {
    const std::size_t before = bot_messages_in(pressed.thread_id).size();
    const auto sent = control("/users/" + person + "/quick_reply",
                              {{"thread_id", pressed.thread_id}, {"mid", pressed.mid}, {"index", index}});
    EXPECT_EQ(sent.status, 200u) << sent.body;
    EXPECT_TRUE(eventually([&] { return bot_messages_in(pressed.thread_id).size() > before; }));
    auto all = bot_messages_in(pressed.thread_id);
    return {all.begin() + static_cast<std::ptrdiff_t>(before), all.end()};
  }

  static std::string text_of(const emulator::ChatMessage& sent) {
    const auto& message = sent.message.as_object();
    if (const auto* text = message.if_contains("text")) return std::string(text->as_string());
    return std::string(message.at("attachment").at("payload").at("text").as_string());
  }
  static std::vector<std::string> quick_reply_titles(const emulator::ChatMessage& sent) {
    std::vector<std::string> titles;
    if (const auto* replies = sent.message.as_object().if_contains("quick_replies")) {
      for (const auto& reply : replies->as_array()) titles.emplace_back(reply.at("title").as_string());
    }
    return titles;
  }

  std::string chloe_id_;
};

TEST_F(HelpdeskTest, AProblemBecomesATicketWhoseCategoryIsChosenByQuickReplyInThePersonsLanguage) {
  // Bruno's locale is pt_BR: the greeting and the ticket come in Portuguese.
  const auto first = say(person_id_, "my laptop won't start", 2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_THAT(text_of(first[0]), HasSubstr("Bruno"));
  EXPECT_THAT(text_of(first[0]), HasSubstr("chamados de TI"));
  EXPECT_THAT(text_of(first[1]), HasSubstr("O chamado nº 1 foi aberto: “my laptop won't start”"));
  EXPECT_THAT(quick_reply_titles(first[1]), ElementsAre("Hardware", "Software", "Acesso", "Outro"));

  const auto filed = press(person_id_, first[1], 0);
  ASSERT_EQ(filed.size(), 1u);
  EXPECT_THAT(text_of(filed[0]), HasSubstr("O chamado nº 1 foi registrado em Hardware"));
  EXPECT_THAT(text_of(filed[0]), HasSubstr("Responderemos aqui. Horário de atendimento: 9:00–17:00."))
      << "the support hours setting's default";
  const auto& button = filed[0].message.at("attachment").at("payload").at("buttons").at(0);
  EXPECT_EQ(std::string(button.at("url").as_string()),
            "http://127.0.0.1:9/admin/tickets?community=" + install_.community_id + "&number=1");

  const auto listed = say(person_id_, "lista");
  EXPECT_THAT(text_of(listed[0]), HasSubstr("Você tem 1 chamado aberto:\nnº 1 my laptop won't start (aberto)"));
  EXPECT_THAT(quick_reply_titles(listed[0]), ElementsAre("Fechar nº 1"));
  EXPECT_THAT(text_of(press(person_id_, listed[0], 0)[0]), HasSubstr("O chamado nº 1 foi fechado"));
  EXPECT_THAT(text_of(say(person_id_, "status 1")[0]), HasSubstr("está fechado"));
  EXPECT_THAT(text_of(say(person_id_, "close 7")[0]), HasSubstr("Você não tem o chamado nº 7"));
}

TEST_F(HelpdeskTest, HelpAndInputTheBotDoesNotUnderstandGetFriendlyAnswersWithQuickReplies) {
  // Chloé's locale is fr_CA: French, from fr.json, and the kit's own French strings.
  const auto help = say(chloe_id_, "aide");
  ASSERT_EQ(help.size(), 1u);
  EXPECT_THAT(text_of(help[0]), HasSubstr("support@helpdesk.test"));
  EXPECT_THAT(text_of(help[0]), HasSubstr("« liste »"));
  EXPECT_THAT(quick_reply_titles(help[0]), ElementsAre("Aide", "Mes tickets"));

  // Her first message that is not help gets the greeting first.
  const auto puzzled = say(chloe_id_, "fermer douze", 2);
  ASSERT_EQ(puzzled.size(), 2u);
  EXPECT_THAT(text_of(puzzled[0]), HasSubstr("Chloé"));
  EXPECT_THAT(quick_reply_titles(puzzled[0]), ElementsAre("Aide", "Mes tickets"));
  EXPECT_THAT(quick_reply_titles(puzzled[1]), ElementsAre("Aide", "Mes tickets"));
  EXPECT_EQ(count_rows("tickets"), 0);
}

TEST_F(HelpdeskTest, AMentionInAGroupPostOpensATicketAndCommentsItsLink) {
  const auto group = emulator_->state().groups(community_id()).front();
  const auto posted = control("/users/" + chloe_id_ + "/posts",
                              {{"group_id", group.id}, {"message", "@[" + install_.page_id + "] the printer is on fire"}});
  ASSERT_EQ(posted.status, 200u) << posted.body;
  const std::string post_id(json::parse(posted.body).as_object().at("id").as_string());
  ASSERT_TRUE(eventually([&] { return !emulator_->state().comments(post_id).empty(); }));
  const auto comment = emulator_->state().comments(post_id).front();
  EXPECT_THAT(comment.message, HasSubstr("Le ticket n° 1 est ouvert pour cette publication"));
  EXPECT_THAT(comment.message, HasSubstr("/admin/tickets?community=" + install_.community_id + "&number=1"));
}

TEST_F(HelpdeskTest, AnAgentAnswersFromTheAdminPageAndTheBotDeliversItThenUninstallPurgesEveryTicket) {
  const auto opened = say(person_id_, "vpn is down", 2);
  auto store = open_kit_store();
  ASSERT_NE(store, nullptr);
  ASSERT_THAT(store->create_account("agent@vendor.test", Secret("correct horse battery"), "admin"), IsOk());
  testing::TestBrowser browser(io_, *http_, "http://127.0.0.1:" + std::to_string(app_->port()));
  browser.get("/signin");
  const auto signed_in = browser.post("/signin", {{"csrf", browser.cookie("wik_csrf").value_or("")},
                                                  {"email", "agent@vendor.test"},
                                                  {"password", "correct horse battery"},
                                                  {"next", "/admin/tickets"}});
  ASSERT_EQ(signed_in.header("Location").value_or(""), "/admin/tickets");
  const auto page = browser.get("/admin/tickets");
  ASSERT_EQ(page.status, 200u);
  EXPECT_THAT(page.body, HasSubstr("vpn is down"));
  EXPECT_THAT(page.body, HasSubstr("id=\"ticket-" + install_.community_id + "-1\""));

  const std::size_t before = bot_messages_in(opened[0].thread_id).size();
  const auto answered = browser.post("/admin/tickets", {{"csrf", browser.cookie("wik_csrf").value_or("")},
                                                        {"community", install_.community_id},
                                                        {"number", "1"},
                                                        {"text", "Restart the VPN client, please."}});
  EXPECT_EQ(answered.status, 303u) << answered.body;
  const auto messages = bot_messages_in(opened[0].thread_id);
  ASSERT_EQ(messages.size(), before + 1);
  EXPECT_EQ(text_of(messages.back()), "O suporte respondeu ao chamado nº 1: Restart the VPN client, please.");
  EXPECT_THAT(browser.get("/admin/tickets").body, HasSubstr("Restart the VPN client, please."));

  // The agent sets the community's support hours on its page; the next filed ticket tells them.
  const std::string community_page = "/admin/communities/" + install_.community_id;
  EXPECT_THAT(browser.get(community_page).body, HasSubstr("name=\"support_hours\" value=\"9:00–17:00\""));
  const auto saved = browser.post(community_page + "/settings", {{"csrf", browser.cookie("wik_csrf").value_or("")},
                                                                 {"support_hours", "Seg–Sex 8:00–18:00"}});
  EXPECT_EQ(saved.status, 303u) << saved.body;
  const auto asked = say(person_id_, "printer jams");
  ASSERT_EQ(asked.size(), 1u);
  const auto filed = press(person_id_, asked[0], 0);
  ASSERT_EQ(filed.size(), 1u);
  EXPECT_THAT(text_of(filed[0]), HasSubstr("Horário de atendimento: Seg–Sex 8:00–18:00."));

  const auto uninstalled = control("/apps/" + std::string(kAppId) + "/uninstall", {{"admin_id", admin_id_}});
  ASSERT_EQ(uninstalled.status, 200u) << uninstalled.body;
  EXPECT_TRUE(eventually([&] {
    return count_rows("tickets") == 0 && count_rows("wik_bot_people") == 0 && count_rows("community_settings") == 0;
  })) << "the tickets (or the settings) were not purged";
}

}  // namespace
}  // namespace wik
