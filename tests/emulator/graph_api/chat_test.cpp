// Conformance of Work Chat: the Send API with each of its limits (§9.1), threads (§9.2) and the
// messenger profile (§9.3), plus /me/subscribed_apps (§7.4).
#include <boost/json/serialize.hpp>

#include "graph_fixture.h"

namespace wik::emulator::testing {
namespace {

namespace json = boost::json;
using boost::beast::http::verb;
using ::testing::HasSubstr;
using ::testing::StartsWith;

json::object text_message(std::string text) { return json::object{{"text", std::move(text)}}; }

json::object postback(std::string title, std::string payload = "P") {
  return json::object{{"type", "postback"}, {"title", std::move(title)}, {"payload", std::move(payload)}};
}

json::array repeated(const json::value& item, std::size_t count) {
  json::array items;
  for (std::size_t i = 0; i < count; ++i) items.push_back(item);
  return items;
}

json::object button_template(std::string text, json::array buttons) {
  return json::object{{"attachment", json::object{{"type", "template"},
                                                   {"payload", json::object{{"template_type", "button"},
                                                                            {"text", std::move(text)},
                                                                            {"buttons", std::move(buttons)}}}}}};
}

json::object generic_template(json::array elements) {
  return json::object{
      {"attachment", json::object{{"type", "template"},
                                  {"payload", json::object{{"template_type", "generic"}, {"elements", std::move(elements)}}}}}};
}

json::object element(std::string title, std::string subtitle = "s", std::size_t buttons = 1) {
  return json::object{{"title", std::move(title)}, {"subtitle", std::move(subtitle)}, {"buttons", repeated(postback("Go"), buttons)}};
}

json::object quick_replies(std::size_t count, std::string title = "Yes", std::string payload = "YES") {
  json::object reply{{"content_type", "text"}, {"title", std::move(title)}, {"payload", std::move(payload)}};
  return json::object{{"text", "Pick one"}, {"quick_replies", repeated(reply, count)}};
}

class ChatTest : public GraphFixture {
 protected:
  Answer send_to(const json::object& recipient, const json::object& message, const Credentials& credentials) {
    return post_json("/me/messages", json::object{{"recipient", recipient}, {"message", message}}, credentials);
  }
  Answer send_to_person(const json::object& message) {
    return send_to(json::object{{"id", scoped(1)}}, message, acme_);
  }
  // Expects the Send API to accept `message`.
  void expect_accepted(const json::object& message, std::string_view what) {
    const Answer answer = send_to_person(message);
    EXPECT_EQ(answer.status, 200u) << what << ": " << answer.raw;
  }
  // Expects code 100 naming `param` for `message`.
  void expect_refused(const json::object& message, std::string_view param) {
    const Answer answer = send_to_person(message);
    EXPECT_TRUE(IsGraphError(answer, 400, "OAuthException", 100)) << param;
    if (answer.error().contains("message")) {
      EXPECT_THAT(std::string(answer.error().at("message").as_string()), HasSubstr(param));
    }
  }
};

TEST_F(ChatTest, Section9_1_TextToAPersonIsStoredAndAnswered) {
  const Answer answer = send_to_person(text_message("Hello from the bot"));
  ASSERT_EQ(answer.status, 200u) << answer.raw;
  EXPECT_EQ(answer.body.at("recipient_id"), json::value(scoped(1)));
  const std::string mid(answer.body.at("message_id").as_string());
  EXPECT_FALSE(answer.body.as_object().contains("thread_key"));
  const auto sent = state_->bot_messages(std::string(kAppId));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].mid, mid);
  EXPECT_EQ(sent[0].message.at("text"), "Hello from the bot");
  const auto thread = state_->thread(sent[0].thread_id);
  ASSERT_TRUE(thread);
  EXPECT_EQ(thread->participants, std::vector<Id>{acme_people_.at(1).id});
}

TEST_F(ChatTest, Section9_1_RecipientIdsCreateANewThreadEachTimeAndThreadKeySendsIntoIt) {
  const json::object recipients{{"ids", json::array{json::value(scoped(1)), json::value(scoped(2))}}};
  const Answer first = send_to(recipients, text_message("Team"), acme_);
  const Answer second = send_to(recipients, text_message("Team again"), acme_);
  ASSERT_EQ(first.status, 200u) << first.raw;
  const std::string key(first.body.at("thread_key").as_string());
  EXPECT_THAT(key, StartsWith("t_"));
  EXPECT_NE(second.body.at("thread_key"), first.body.at("thread_key"));
  const Answer into = send_to(json::object{{"thread_key", key}}, text_message("Follow-up"), acme_);
  ASSERT_EQ(into.status, 200u) << into.raw;
  EXPECT_EQ(into.body.at("thread_key"), json::value(key));
  EXPECT_EQ(state_->messages(key.substr(2)).size(), 2u);
  // An install without the message permission cannot send, not even into an existing thread.
  EXPECT_TRUE(IsGraphError(send_to(json::object{{"thread_key", key}}, text_message("x"), limited_), 403,
                           "OAuthException", 10));
}

TEST_F(ChatTest, Section9_2_ThreadAndItsMessagesAreReadable) {
  const Answer created =
      send_to(json::object{{"ids", json::array{json::value(scoped(1))}}}, text_message("In the thread"), acme_);
  const std::string key(created.body.at("thread_key").as_string());
  const Answer thread = get("/" + key + "?fields=" + url_encode("id,participants{name}"));
  ASSERT_EQ(thread.status, 200u) << thread.raw;
  EXPECT_EQ(thread.body.at("id"), json::value(key));
  EXPECT_EQ(thread.body.at("participants").at("data").as_array().size(), 2u);  // the person and the bot
  const Answer messages = get("/" + key + "/messages?fields=id,message,from");
  ASSERT_EQ(messages.status, 200u) << messages.raw;
  ASSERT_EQ(messages.body.at("data").as_array().size(), 1u);
  EXPECT_EQ(messages.body.at("data").at(0).at("message"), "In the thread");
  EXPECT_TRUE(IsGraphError(get("/t_999999999"), 400, "GraphMethodException", 100, 33));
}

TEST_F(ChatTest, Section9_1_TextLimitIs2000Characters) {
  expect_accepted(text_message(std::string(2000, 'a')), "2000 ASCII");
  std::string accented;
  for (int i = 0; i < 2000; ++i) accented += "é";  // 2000 characters, 4000 bytes
  expect_accepted(text_message(accented), "2000 accented");
  expect_refused(text_message(std::string(2001, 'a')), "message[text]");
}

TEST_F(ChatTest, Section9_1_QuickReplyLimits) {
  expect_accepted(quick_replies(13), "13 replies");
  expect_refused(quick_replies(14), "message[quick_replies]");
  expect_accepted(quick_replies(1, std::string(20, 't')), "title of 20");
  expect_refused(quick_replies(1, std::string(21, 't')), "[title]");
  expect_accepted(quick_replies(1, "Yes", std::string(1000, 'p')), "payload of 1000");
  expect_refused(quick_replies(1, "Yes", std::string(1001, 'p')), "[payload]");
}

TEST_F(ChatTest, Section9_1_ButtonTemplateLimits) {
  expect_accepted(button_template("Choose", repeated(postback("One"), 3)), "3 buttons");
  expect_refused(button_template("Choose", {}), "[buttons]");
  expect_refused(button_template("Choose", repeated(postback("One"), 4)), "[buttons]");
  expect_accepted(button_template(std::string(640, 'x'), repeated(postback("One"), 1)), "text of 640");
  expect_refused(button_template(std::string(641, 'x'), repeated(postback("One"), 1)), "[text]");
  expect_refused(button_template("Choose", repeated(postback(std::string(21, 'b')), 1)), "[title]");
  expect_refused(button_template("Choose", repeated(postback("One", std::string(1001, 'p')), 1)), "[payload]");
  const json::object web{{"type", "web_url"}, {"title", "Open"}, {"url", "https://vendor.example/t/1"}};
  expect_accepted(button_template("Choose", json::array{web}), "web_url button");
  const json::object bad_web{{"type", "web_url"}, {"title", "Open"}, {"url", "javascript:alert(1)"}};
  expect_refused(button_template("Choose", json::array{bad_web}), "[url]");
  expect_refused(button_template("Choose", json::array{json::object{{"type", "nuke"}, {"title", "x"}}}), "[type]");
}

TEST_F(ChatTest, Section9_1_GenericTemplateLimits) {
  expect_accepted(generic_template(repeated(element("Item"), 10)), "10 elements");
  expect_refused(generic_template(repeated(element("Item"), 11)), "[elements]");
  expect_accepted(generic_template(json::array{element(std::string(80, 't'), std::string(80, 's'))}), "80/80");
  expect_refused(generic_template(json::array{element(std::string(81, 't'))}), "[title]");
  expect_refused(generic_template(json::array{element("Item", std::string(81, 's'))}), "[subtitle]");
  expect_accepted(generic_template(json::array{element("Item", "s", 3)}), "3 buttons");
  expect_refused(generic_template(json::array{element("Item", "s", 4)}), "[buttons]");
}

TEST_F(ChatTest, Section9_1_MediaAttachmentsAndMessageShape) {
  for (const char* type : {"image", "audio", "video", "file"}) {
    expect_accepted(json::object{{"attachment", json::object{{"type", type},
                                                             {"payload", json::object{{"url", "https://x.example/a"},
                                                                                      {"is_reusable", true}}}}}},
                    type);
  }
  expect_refused(json::object{{"attachment", json::object{{"type", "image"}, {"payload", json::object{}}}}}, "[url]");
  expect_refused(json::object{{"attachment", json::object{{"type", "hologram"}, {"payload", json::object{}}}}}, "[type]");
  expect_refused(json::object{}, "message");
  expect_refused(json::object{{"text", "a"}, {"attachment", json::object{}}}, "message");
  expect_refused(json::object{{"text", 42}}, "message[text]");
}

TEST_F(ChatTest, Section9_1_SenderActions) {
  for (const char* action : {"mark_seen", "typing_on", "typing_off"}) {
    const Answer answer = post_json(
        "/me/messages", json::object{{"recipient", json::object{{"id", scoped(1)}}}, {"sender_action", action}});
    EXPECT_EQ(answer.status, 200u) << action << answer.raw;
    EXPECT_EQ(answer.body, (json::object{{"recipient_id", scoped(1)}}));
  }
  const Answer unknown = post_json(
      "/me/messages", json::object{{"recipient", json::object{{"id", scoped(1)}}}, {"sender_action", "dance"}});
  EXPECT_TRUE(IsGraphError(unknown, 400, "OAuthException", 100));
  EXPECT_TRUE(state_->bot_messages(std::string(kAppId)).empty());
}

TEST_F(ChatTest, Section9_1_UnknownRecipientAndMissingPermission) {
  const Answer nobody = send_to(json::object{{"id", "123456789"}}, text_message("hi"), acme_);
  EXPECT_TRUE(IsGraphError(nobody, 400, "OAuthException", 100, 2018001));
  EXPECT_EQ(nobody.error().at("message"), "(#100) No matching user found");
  const Answer denied = send_to(json::object{{"id", scoped(1, kOtherAppId)}}, text_message("hi"), limited_);
  EXPECT_TRUE(IsGraphError(denied, 403, "OAuthException", 10));
}

TEST_F(ChatTest, Section2_6_SendApiAcceptsFormEncodedJsonParameters) {
  const std::string form = "recipient=" + url_encode(json::serialize(json::object{{"id", scoped(1)}})) +
                           "&message=" + url_encode(json::serialize(text_message("from a form"))) + "&" +
                           signed_query(acme_);
  const Answer answer = send(verb::post, "/v3.2/me/messages", form, "application/x-www-form-urlencoded");
  EXPECT_EQ(answer.status, 200u) << answer.raw;
  const Answer bracket = send(verb::post, "/me/messages",
                              "recipient%5Bid%5D=" + scoped(1) + "&message%5Btext%5D=brackets&" + signed_query(acme_),
                              "application/x-www-form-urlencoded");
  EXPECT_EQ(bracket.status, 200u) << bracket.raw;
  const Answer multipart = send(verb::post, "/me/messages?" + signed_query(acme_),
                                "--b\r\nContent-Disposition: form-data; name=\"recipient\"\r\n\r\n{\"id\":\"" + scoped(1) +
                                    "\"}\r\n--b\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\n"
                                    "{\"text\":\"multipart\"}\r\n--b--\r\n",
                                "multipart/form-data; boundary=b");
  EXPECT_EQ(multipart.status, 200u) << multipart.raw;
  EXPECT_EQ(state_->bot_messages(std::string(kAppId)).size(), 3u);
}

TEST_F(ChatTest, Section9_3_MessengerProfileSetReadAndDelete) {
  const json::object profile{
      {"get_started", json::object{{"payload", "GET_STARTED"}}},
      {"greeting", json::array{json::object{{"locale", "default"}, {"text", "Hi! I file tickets."}}}}};
  const Answer set = post_json("/me/messenger_profile", profile);
  ASSERT_EQ(set.status, 200u) << set.raw;
  EXPECT_EQ(set.body, (json::object{{"result", "success"}}));
  const Answer read = get("/me/messenger_profile?fields=get_started,greeting");
  ASSERT_EQ(read.status, 200u);
  EXPECT_EQ(read.body.at("data").at(0), profile);
  const Answer removed = delete_json("/me/messenger_profile", json::object{{"fields", json::array{"greeting"}}});
  EXPECT_EQ(removed.body, (json::object{{"result", "success"}}));
  EXPECT_EQ(get("/me/messenger_profile?fields=get_started,greeting").body.at("data").at(0),
            (json::object{{"get_started", json::object{{"payload", "GET_STARTED"}}}}));
}

TEST_F(ChatTest, Section9_3_MessengerProfileLimits) {
  const auto greeting = [](std::size_t length) {
    return json::object{{"greeting", json::array{json::object{{"locale", "default"}, {"text", std::string(length, 'g')}}}}};
  };
  EXPECT_EQ(post_json("/me/messenger_profile", greeting(160)).status, 200u);
  EXPECT_TRUE(IsGraphError(post_json("/me/messenger_profile", greeting(161)), 400, "OAuthException", 100));
  const auto started = [](std::size_t length) {
    return json::object{{"get_started", json::object{{"payload", std::string(length, 'p')}}}};
  };
  EXPECT_EQ(post_json("/me/messenger_profile", started(1000)).status, 200u);
  EXPECT_TRUE(IsGraphError(post_json("/me/messenger_profile", started(1001)), 400, "OAuthException", 100));
  EXPECT_TRUE(IsGraphError(post_json("/me/messenger_profile", json::object{}), 400, "OAuthException", 100));
}

TEST_F(ChatTest, Section7_4_SubscribedAppsIsAcceptedAsANoOp) {
  const Answer answer = post_json("/me/subscribed_apps", json::object{});
  EXPECT_EQ(answer.body, (json::object{{"success", true}}));
}

}  // namespace
}  // namespace wik::emulator::testing
