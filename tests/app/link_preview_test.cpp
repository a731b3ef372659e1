// Link previews: the rules an answer must follow before the platform gets it, the decoding of
// link requests, and App::on_link_preview end to end — a signed link webhook answered inline by
// the app's handler, from the cache on a repeat, with no preview on a failure or for a community
// that is not installed.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>

#include "app/app_fixture.h"
#include "app/events.h"
#include "app/link_previews.h"
#include "core/hub_signature.h"

namespace wik {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using wik::testing::AppTest;
using wik::testing::HasError;
using wik::testing::IsOk;
using wik::testing::kAppId;
using wik::testing::kSecret;

LinkItem document(std::string link) {
  return LinkItem{.link = std::move(link),
                  .title = "Q3 plan",
                  .description = "The plan for the third quarter",
                  .details = {{.title = "Priority", .value = "high", .color = "red"}}};
}

TEST(LinkPreviewRulesTest, RendersWhatThePlatformReads) {
  const auto rendered = app::render_link_preview({.items = {document("https://vendor.example/doc/8")}, .linked_user = true});
  ASSERT_THAT(rendered, IsOk());
  const json::value expected = json::parse(R"({"data":[{"link":"https://vendor.example/doc/8",
      "canonical_link":"https://vendor.example/doc/8","title":"Q3 plan","type":"doc","privacy":"organization",
      "description":"The plan for the third quarter",
      "additional_data":[{"title":"Priority","format":"text","value":"high","color":"red"}]}],"linked_user":true})");
  EXPECT_EQ(*rendered, expected);
  EXPECT_EQ(*app::render_link_preview({}), json::parse(R"({"data":[]})"));
}

TEST(LinkPreviewRulesTest, RefusesAnAnswerThatBreaksTheRulesAndNamesWhat) {
  const auto refused = [](LinkItem item, std::string_view reason) {
    EXPECT_THAT(app::render_link_preview({.items = {std::move(item)}}), HasError(ErrorCode::kInvalidArgument, HasSubstr(reason)));
  };
  refused(document("javascript:alert(1)"), "link preview item 1's link");
  refused(document(""), "link preview item 1's link");
  LinkItem untitled = document("https://vendor.example/doc/8");
  untitled.title.clear();
  refused(untitled, "title");
  LinkItem typed = document("https://vendor.example/doc/8");
  typed.type = "video";
  refused(typed, "type must be one of doc, folder, task");
  LinkItem private_item = document("https://vendor.example/doc/8");
  private_item.privacy = "secret";
  refused(private_item, "privacy");
  LinkItem icon = document("https://vendor.example/doc/8");
  icon.icon = "data:image/png;base64,AAAA";
  refused(icon, "icon");
  LinkItem colored = document("https://vendor.example/doc/8");
  colored.details[0].color = "blue";
  refused(colored, "detail 1's color");
  LinkItem invalid_text = document("https://vendor.example/doc/8");
  invalid_text.description = "\xff\xfe";
  refused(invalid_text, "description");

  LinkPreview many;
  many.items.assign(101, document("https://vendor.example/doc/8"));
  EXPECT_THAT(app::render_link_preview(many), HasError(ErrorCode::kInvalidArgument, HasSubstr("101 items")));
}

TEST(LinkRequestTest, DecodesPreviewsAndCollectionsAndRefusesTheRest) {
  const std::string preview = R"({"object":"link","entry_id":"1","time":1,"field":"preview","item":{"field":"preview",
      "value":{"link":"https://vendor.example/doc/8","community":{"id":"100"},"user":{"id":"200"}}}})";
  const auto request = app::decode_link_request("100", "preview", preview);
  ASSERT_THAT(request, IsOk());
  EXPECT_EQ(request->community_id, "100");
  EXPECT_EQ(request->user_id, "200");
  EXPECT_EQ(request->link, "https://vendor.example/doc/8");
  EXPECT_FALSE(request->collection);

  const std::string root = R"({"field":"collection","item":{"value":{"community":{"id":"100"}}}})";
  const auto collection = app::decode_link_request("100", "collection", root);
  ASSERT_THAT(collection, IsOk());
  EXPECT_TRUE(collection->collection);
  EXPECT_EQ(collection->link, "");

  EXPECT_THAT(app::decode_link_request("100", "preview", root), HasError(ErrorCode::kMalformed));
  EXPECT_THAT(app::decode_link_request("100", "share", preview), HasError(ErrorCode::kMalformed));
  EXPECT_THAT(app::decode_link_request("100", "preview", "[1,2]"), HasError(ErrorCode::kMalformed));
}

class LinkPreviewAppTest : public AppTest {
 protected:
  // POSTs a signed link/preview request for `link` in `community` and returns the answer's JSON.
  json::value ask(const std::string& community, const std::string& link) {
    json::object value{{"link", link},
                       {"community", json::object{{"id", community}}},
                       {"user", json::object{{"id", person_id_}}}};
    json::object change{{"field", "preview"}, {"value", std::move(value)}};
    json::object entry{{"id", kAppId}, {"time", 1764370000}, {"changes", json::array{std::move(change)}}};
    const std::string body =
        json::serialize(json::object{{"object", "link"}, {"entry", json::array{std::move(entry)}}});
    http::ClientRequest request{.method = boost::beast::http::verb::post,
                                .url = "http://127.0.0.1:" + std::to_string(app_->port()) + "/workplace/webhook",
                                .body = body};
    request.headers.set(boost::beast::http::field::content_type, "application/json");
    request.headers.set("X-Hub-Signature-256", core::sign_hub_signature(core::HubAlgorithm::kSha256, Secret(kSecret), body));
    auto response = testing::run_coroutine(io_, http_->request(std::move(request)));
    EXPECT_THAT(response, IsOk());
    if (!response.ok()) return {};
    EXPECT_EQ(response->status, 200u) << response->body;
    return json::parse(response->body);
  }
};

TEST_F(LinkPreviewAppTest, TheHandlersAnswerIsTheResponseAndARepeatComesFromTheCache) {
  std::atomic<int> calls{0};
  start_installed_app([&](App& app) {
    app.on_link_preview([&](Context& context, const LinkRequest& request) -> boost::asio::awaitable<Result<LinkPreview>> {
      ++calls;
      if (request.link.ends_with("/broken")) co_return Error(ErrorCode::kUnavailable, "the document store is down");
      if (request.link.ends_with("/bad")) co_return LinkPreview{.items = {document("ftp://vendor.example/bad")}};
      LinkItem item = document(request.link);
      item.description = "for " + request.user_id + " in " + context.community_id();
      co_return LinkPreview{.items = {std::move(item)}, .linked_user = false};
    });
  });
  const std::string link = "https://vendor.example/doc/8";
  const json::value first = ask(install_.community_id, link);
  ASSERT_TRUE(first.is_object()) << json::serialize(first);
  const auto& item = first.at("data").at(0).as_object();
  EXPECT_EQ(item.at("title"), "Q3 plan");
  EXPECT_EQ(item.at("description").as_string(), "for " + person_id_ + " in " + install_.community_id);
  EXPECT_EQ(first.at("linked_user"), false);
  EXPECT_EQ(ask(install_.community_id, link), first);
  EXPECT_EQ(calls.load(), 1) << "the repeat was answered from the cache";

  const json::value no_preview = json::parse(R"({"data":[]})");
  EXPECT_EQ(ask(install_.community_id, "https://vendor.example/broken").at("data"), no_preview.at("data"));
  EXPECT_EQ(ask(install_.community_id, "https://vendor.example/bad").at("data"), no_preview.at("data"));
  const int before = calls.load();
  EXPECT_EQ(ask("999999", link).at("data"), no_preview.at("data")) << "a community that is not installed";
  EXPECT_EQ(calls.load(), before);
}

}  // namespace
}  // namespace wik
