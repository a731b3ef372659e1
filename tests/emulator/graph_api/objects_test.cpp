// Conformance of the community, people and object reads: /community (§4.1), /me (§4.2), people edges
// and member fields with their permissions (§4.3, §8), app-scoped ids (§4.4), ?ids= and field
// selection (§2.6), paging (§11.3) and the community boundary (§1.6, §11.1).
#include <boost/json/parse.hpp>

#include "graph_fixture.h"

namespace wik::emulator::testing {
namespace {

namespace json = boost::json;
using boost::beast::http::verb;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class ObjectsTest : public GraphFixture {
 protected:
  // Returns the ids of a page's data.
  static std::vector<std::string> ids_of(const Answer& answer) {
    std::vector<std::string> ids;
    for (const json::value& item : answer.body.at("data").as_array()) ids.emplace_back(item.at("id").as_string());
    return ids;
  }
};

TEST_F(ObjectsTest, Section4_1_CommunityWithInstallAndCompanyAlias) {
  const Answer answer = get("/community?fields=id,name,privacy,install");
  ASSERT_EQ(answer.status, 200u) << answer.raw;
  const json::object& body = answer.body.as_object();
  EXPECT_EQ(body.at("id"), json::value(acme_community_.id));
  EXPECT_EQ(body.at("name"), "Acme Corp");
  EXPECT_TRUE(body.contains("privacy"));
  const json::object& install = body.at("install").as_object();
  EXPECT_EQ(install.at("id"), json::value(state_->install_of(std::string(kAppId), acme_community_.id)->id));
  EXPECT_EQ(install.at("install_type"), "COMMUNITY");
  EXPECT_THAT(install.at("permissions").as_array(), ::testing::Contains(json::value("MESSAGE")));
  EXPECT_THAT(install.at("permissions").as_array(), ::testing::Contains(json::value("READ_USER_EMAIL")));
  EXPECT_EQ(get("/company?fields=id,name,privacy,install").body, answer.body);
  EXPECT_EQ(get("/community").body, (json::object{{"id", acme_community_.id}, {"name", "Acme Corp"}}));
}

TEST_F(ObjectsTest, Section4_2_MeIsTheBotPage) {
  const Answer answer = get("/me");
  ASSERT_EQ(answer.status, 200u);
  const auto install = state_->install_of(std::string(kAppId), acme_community_.id);
  EXPECT_EQ(answer.body, (json::object{{"id", install->page_id}, {"name", "Helpdesk"}}));
}

TEST_F(ObjectsTest, Section4_3_MemberByIdAndByEmailWithEmailPermission) {
  const Answer by_id = get("/" + scoped(1) + "?fields=id,name,email,locale,title");
  ASSERT_EQ(by_id.status, 200u) << by_id.raw;
  EXPECT_EQ(by_id.body.at("id"), json::value(scoped(1)));
  EXPECT_EQ(by_id.body.at("email"), json::value(acme_people_.at(1).email));
  EXPECT_EQ(by_id.body.at("locale"), json::value(acme_people_.at(1).locale));
  EXPECT_EQ(by_id.body.at("title"), json::value(acme_people_.at(1).title));
  const Answer by_email = get("/" + url_encode(acme_people_.at(1).email) + "?fields=id,name,email,locale,title");
  EXPECT_EQ(by_email.body, by_id.body);
}

TEST_F(ObjectsTest, Section4_3_EmailAndWorkProfileOmittedSilentlyWithoutPermission) {
  const std::string person = scoped(2, kOtherAppId);
  const Answer answer = get("/" + person + "?fields=id,name,email,title,department", limited_);
  ASSERT_EQ(answer.status, 200u) << answer.raw;
  EXPECT_EQ(answer.body, (json::object{{"id", person}, {"name", acme_people_.at(2).name}}));
}

TEST_F(ObjectsTest, Section4_4_IdsAreAppScopedAndPlatformIdsAreNotAccepted) {
  EXPECT_NE(scoped(1), scoped(1, kOtherAppId));
  EXPECT_NE(scoped(1), acme_people_.at(1).id);
  EXPECT_EQ(scoped(1), scoped(1));
  EXPECT_TRUE(IsGraphError(get("/" + acme_people_.at(1).id), 400, "GraphMethodException", 100, 33));
  EXPECT_TRUE(IsGraphError(get("/" + scoped(1, kOtherAppId)), 400, "GraphMethodException", 100, 33));
}

TEST_F(ObjectsTest, Section4_3_PeopleEdgesPageWithCursorsAndNext) {
  std::vector<std::string> seen;
  std::string target = "/v3.2/community/members?limit=2&fields=id,name";
  Answer page;
  for (int pages = 0; pages < 10; ++pages) {
    page = get(target);
    ASSERT_EQ(page.status, 200u) << page.raw;
    for (const std::string& id : ids_of(page)) seen.push_back(id);
    const json::object& paging = page.body.at("paging").as_object();
    EXPECT_TRUE(paging.at("cursors").as_object().contains("after"));
    if (!paging.contains("next")) break;
    const std::string next(paging.at("next").as_string());
    ASSERT_THAT(next, StartsWith(base_url() + "/v3.2/community/members?"));
    EXPECT_THAT(next, ::testing::Not(HasSubstr("access_token")));
    EXPECT_THAT(next, HasSubstr("fields=id%2Cname"));
    target = next.substr(base_url().size());
  }
  EXPECT_EQ(seen.size(), acme_people_.size());
  EXPECT_EQ(ids_of(page).size(), 1u);  // five people in pages of two: the last page has one
  EXPECT_TRUE(page.body.at("paging").as_object().contains("previous"));
  // Going back from the last page with `before` gives the page before it.
  const std::string before(page.body.at("paging").at("cursors").at("before").as_string());
  const Answer back = get("/community/members?limit=2&before=" + before);
  EXPECT_EQ(ids_of(back), (std::vector<std::string>{seen.at(2), seen.at(3)}));
  EXPECT_TRUE(IsGraphError(get("/community/members?after=bogus"), 400, "OAuthException", 100));
  EXPECT_TRUE(IsGraphError(get("/community/members?limit=0"), 400, "OAuthException", 100));
}

TEST_F(ObjectsTest, Section4_3_ActiveFormerAndAdminEdges) {
  User former;
  former.name = "Fay Former";
  former.email = "fay@acme.example";
  former.active = false;
  auto created = state_->create_user(acme_community_.id, former);
  ASSERT_TRUE(created.ok());
  const Id fay = state_->scoped_user_id(std::string(kAppId), created->id);
  EXPECT_THAT(ids_of(get("/community/members?limit=100")), ::testing::Not(::testing::Contains(fay)));
  EXPECT_THAT(ids_of(get("/community/organization_members?limit=100")), ::testing::Not(::testing::Contains(fay)));
  EXPECT_THAT(ids_of(get("/community/organization_members?inactive=1")), ElementsAre(fay));
  EXPECT_THAT(ids_of(get("/company/former_members")), ElementsAre(fay));
  EXPECT_THAT(ids_of(get("/community/admins")), ElementsAre(scoped(0)));
  EXPECT_EQ(ids_of(get("/community/groups")).size(), state_->groups(acme_community_.id).size());
}

TEST_F(ObjectsTest, Section8_GroupsNeedReadGroup) {
  const Answer answer = get("/community/groups", limited_);
  EXPECT_TRUE(IsGraphError(answer, 403, "OAuthException", 200));
  EXPECT_THAT(std::string(answer.error().at("message").as_string()), HasSubstr("read_group"));
}

TEST_F(ObjectsTest, Section2_6_IdsReadIsKeyedByTheGivenKeys) {
  const std::string email = acme_people_.at(3).email;
  const Answer answer = get("/?ids=" + scoped(1) + "," + url_encode(email) + "&fields=id,name");
  ASSERT_EQ(answer.status, 200u) << answer.raw;
  const json::object& body = answer.body.as_object();
  EXPECT_EQ(body.size(), 2u);
  EXPECT_EQ(body.at(scoped(1)).at("name"), json::value(acme_people_.at(1).name));
  EXPECT_EQ(body.at(email).at("id"), json::value(scoped(3)));
  const Answer missing = get("/?ids=" + scoped(1) + ",nobody@acme.example");
  EXPECT_TRUE(IsGraphError(missing, 404, "OAuthException", 803));
  EXPECT_THAT(std::string(missing.error().at("message").as_string()), HasSubstr("nobody@acme.example"));
}

TEST_F(ObjectsTest, Section2_6_FieldSelectionWithNestingLimitAndAlias) {
  const Answer nested = get("/community?fields=" + url_encode("install{permissions},name.as(title)"));
  ASSERT_EQ(nested.status, 200u) << nested.raw;
  EXPECT_EQ(nested.body.at("title"), "Acme Corp");
  EXPECT_EQ(nested.body.at("install").as_object().size(), 1u);
  EXPECT_TRUE(nested.body.at("install").as_object().contains("permissions"));

  auto post = state_->add_post(acme_group_.id, acme_people_.at(1).id, false, "Release 4.2 is out");
  ASSERT_TRUE(post.ok());
  for (const char* text : {"first", "second", "third"}) {
    ASSERT_TRUE(state_->add_comment(post->id, acme_people_.at(2).id, false, text).ok());
  }
  const Answer limited = get("/" + post->id + "?fields=" + url_encode("id,from{name},comments.limit(2){message}"));
  ASSERT_EQ(limited.status, 200u) << limited.raw;
  EXPECT_EQ(limited.body.at("from"), (json::object{{"name", acme_people_.at(1).name}}));
  const json::array& comments = limited.body.at("comments").at("data").as_array();
  ASSERT_EQ(comments.size(), 2u);
  EXPECT_EQ(comments[0], (json::object{{"message", "first"}}));

  // The same selection given as bracket keys and as a JSON array.
  const Answer bracket = get("/community?fields%5B0%5D=id&fields%5B1%5D=name");
  const Answer array = get("/community?fields=" + url_encode("[\"id\",\"name\"]"));
  EXPECT_EQ(bracket.body, (json::object{{"id", acme_community_.id}, {"name", "Acme Corp"}}));
  EXPECT_EQ(array.body, bracket.body);
}

TEST_F(ObjectsTest, Section2_6_UnknownFieldsAndSyntaxErrors) {
  const Answer unknown = get("/community?fields=id,colour");
  EXPECT_TRUE(IsGraphError(unknown, 400, "OAuthException", 100));
  EXPECT_EQ(unknown.error().at("message"), json::value("(#100) Tried accessing nonexisting field (colour) on node type (Group)"));
  for (const char* bad : {"install{", "install{}", "name.limit(x)", "a}b"}) {
    EXPECT_TRUE(IsGraphError(get("/community?fields=" + url_encode(bad)), 400, "OAuthException", 100)) << bad;
  }
}

TEST_F(ObjectsTest, Section1_6_AnotherCommunitysObjectsAreRefused) {
  const Id globex_person = state_->scoped_user_id(std::string(kAppId), globex_admin_.id);
  for (const std::string& id : {globex_group_.id, globex_person, globex_community_.id, url_encode(globex_admin_.email)}) {
    EXPECT_TRUE(IsGraphError(get("/" + id), 400, "GraphMethodException", 100, 33)) << id;
  }
  EXPECT_TRUE(IsGraphError(get("/" + globex_group_.id + "/feed"), 400, "GraphMethodException", 100, 33));
  EXPECT_TRUE(IsGraphError(post_json("/" + globex_group_.id + "/feed", json::object{{"message", "hi"}}), 400,
                           "GraphMethodException", 100, 33));
  EXPECT_TRUE(IsGraphError(post_json("/me/messages", json::object{{"recipient", json::object{{"id", globex_person}}},
                                                                   {"message", json::object{{"text", "hi"}}}}),
                           400, "OAuthException", 100, 2018001));
  // The same objects are readable with the Globex install.
  EXPECT_EQ(get("/" + globex_group_.id, globex_).status, 200u);
  EXPECT_EQ(get("/" + globex_person, globex_).status, 200u);
}

}  // namespace
}  // namespace wik::emulator::testing
