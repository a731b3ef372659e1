// Conformance of the Graph host with PROTOCOL.md: the token exchange (§2), appsecret_proof (§3),
// token rules (§1.6, §5.4, §7), versions and request conventions (§2.5, §2.6) and the error envelope
// (§11.1). Every test names the section it checks and talks plain HTTP only.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/appsecret_proof.h"
#include "graph_fixture.h"

namespace wik::emulator::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using boost::beast::http::verb;
using ::testing::HasSubstr;

class ConformanceTest : public GraphFixture {
 protected:
  // Mints a fresh code for the main app in Acme.
  std::string fresh_code() {
    auto code = state_->issue_code(std::string(kAppId), acme_people_.at(0).id, std::string(kRedirect), {"message"});
    EXPECT_TRUE(code.ok());
    return code.ok() ? code->code : std::string();
  }
  Answer exchange(const std::string& code, std::string_view secret = kSecret, std::string_view app_id = kAppId,
                  std::string_view redirect = "https%3A%2F%2Fvendor.example%2Fworkplace%2Finstall") {
    return send(verb::get, "/oauth/access_token?client_id=" + std::string(app_id) + "&client_secret=" +
                               std::string(secret) + "&redirect_uri=" + std::string(redirect) + "&code=" + code);
  }
  static void expect_oauth_error(const Answer& answer, int code, std::optional<int> subcode, std::string_view message) {
    EXPECT_TRUE(IsGraphError(answer, 400, "OAuthException", code, subcode));
    EXPECT_EQ(answer.error().at("message"), json::value(message));
    EXPECT_EQ(answer.header("WWW-Authenticate"),
              "OAuth \"Facebook Platform\" \"invalid_code\" \"" + std::string(message) + "\"");
  }
};

TEST_F(ConformanceTest, Section2_2_ExchangeAnswersTheTokenAsBearerWithoutExpiry) {
  const Answer answer = exchange(fresh_code());
  ASSERT_EQ(answer.status, 200u) << answer.raw;
  EXPECT_EQ(answer.header("Content-Type"), "application/json; charset=UTF-8");
  const json::object& body = answer.body.as_object();
  EXPECT_FALSE(body.at("access_token").as_string().empty());
  EXPECT_EQ(body.at("token_type"), "bearer");
  EXPECT_FALSE(body.contains("expires_in"));
  EXPECT_EQ(get("/me", {std::string(body.at("access_token").as_string()), std::string(kSecret)}).status, 200u);
}

TEST_F(ConformanceTest, Section2_1_PostFormAndVersionPrefixAreAccepted) {
  const std::string form = "client_id=" + std::string(kAppId) + "&client_secret=" + std::string(kSecret) +
                           "&redirect_uri=https%3A%2F%2Fvendor.example%2Fworkplace%2Finstall&grant_type="
                           "authorization_code&code=" + fresh_code();
  const Answer answer = send(verb::post, "/v3.2/oauth/access_token", form, "application/x-www-form-urlencoded");
  EXPECT_EQ(answer.status, 200u) << answer.raw;
  EXPECT_EQ(answer.body.at("token_type"), "bearer");
}

TEST_F(ConformanceTest, Section2_3_CodeAlreadyUsed) {
  const std::string code = fresh_code();
  ASSERT_EQ(exchange(code).status, 200u);
  expect_oauth_error(exchange(code), 100, 36009, "This authorization code has been used.");
}

TEST_F(ConformanceTest, Section2_3_CodeExpiredAfter300Seconds) {
  const std::string code = fresh_code();
  clock_.advance(301s);
  expect_oauth_error(exchange(code), 100, 36007, "This authorization code has expired.");
}

TEST_F(ConformanceTest, Section2_3_CodeStillValidAt300Seconds) {
  const std::string code = fresh_code();
  clock_.advance(300s);
  EXPECT_EQ(exchange(code).status, 200u);
}

TEST_F(ConformanceTest, Section2_3_RedirectUriDiffers) {
  expect_oauth_error(exchange(fresh_code(), kSecret, kAppId, "https%3A%2F%2Fevil.example%2Finstall"), 100, 36008,
                     "Error validating verification code. Please make sure your redirect_uri is identical to the one "
                     "you used in the OAuth dialog request");
}

TEST_F(ConformanceTest, Section2_3_MalformedOrUnknownCode) {
  expect_oauth_error(exchange("not-a-code"), 100, std::nullopt, "Invalid verification code format.");
}

TEST_F(ConformanceTest, Section2_3_WrongClientSecret) {
  const Answer answer = exchange(fresh_code(), "0000000000000000ffffffffffffffff");
  expect_oauth_error(answer, 1, std::nullopt, "Error validating client secret.");
  EXPECT_THAT(answer.raw, ::testing::Not(HasSubstr("0000000000000000ffffffffffffffff")));
}

TEST_F(ConformanceTest, Section2_3_UnknownClientId) {
  expect_oauth_error(exchange(fresh_code(), kSecret, "123"), 101, std::nullopt,
                     "Error validating application. Invalid application ID.");
}

TEST_F(ConformanceTest, Section2_3_MissingParameters) {
  expect_oauth_error(send(verb::get, "/oauth/access_token?client_secret=x&code=y&redirect_uri=z"), 101, std::nullopt,
                     "Missing client_id parameter.");
  expect_oauth_error(send(verb::get, "/oauth/access_token?client_id=1&client_secret=x&redirect_uri=z"), 100,
                     std::nullopt, "Missing code parameter.");
}

TEST_F(ConformanceTest, Section1_6_ReinstallKillsTheOldTokenWith190) {
  const Credentials old = acme_;
  ASSERT_EQ(exchange(fresh_code()).status, 200u);
  EXPECT_TRUE(IsGraphError(get("/me", old), 400, "OAuthException", 190, 458));
}

TEST_F(ConformanceTest, Section5_4_UninstalledTokenIs190Subcode458) {
  ASSERT_TRUE(state_->uninstall(std::string(kAppId), acme_community_.id).ok());
  const Answer answer = get("/community", acme_);
  EXPECT_TRUE(IsGraphError(answer, 400, "OAuthException", 190, 458));
  EXPECT_THAT(answer.header("WWW-Authenticate"), HasSubstr("\"invalid_token\""));
}

TEST_F(ConformanceTest, Section11_1_UnknownTokenIs190AndMissingTokenIs104) {
  EXPECT_TRUE(IsGraphError(get("/me", {"garbage", std::string(kSecret)}), 400, "OAuthException", 190));
  EXPECT_TRUE(IsGraphError(send(verb::get, "/me"), 400, "OAuthException", 104));
}

TEST_F(ConformanceTest, Section3_1_TestVector) {
  const auto proof = core::make_appsecret_proof(Secret("0123456789abcdef0123456789abcdef"),
                                                AccessToken("WPTOKEN-EXAMPLE-1"), 1764370000);
  EXPECT_EQ(proof.proof, "7e6fdff63e308913045aaf6e4407f1c9e298bc6190821effba6dce192558aa0d");
  EXPECT_EQ(proof.time, "1764370000");
  // The host accepts exactly that computation for its own tokens (the fixture signs this way).
  EXPECT_EQ(get("/me").status, 200u);
}

TEST_F(ConformanceTest, Section3_4_CommunityTokenWithoutProofOrTime) {
  const std::string message =
      "API calls with a community access token require an appsecret_proof and an appsecret_time argument";
  const std::string full = signed_query(acme_);
  const std::string without_time = full.substr(0, full.find("&appsecret_time"));
  const std::string without_proof = "access_token=" + acme_.token + full.substr(full.find("&appsecret_time"));
  for (const std::string& query : {"access_token=" + acme_.token, without_time, without_proof}) {
    const Answer answer = send(verb::get, "/community?" + query);
    EXPECT_TRUE(IsGraphError(answer, 400, "GraphMethodException", 100)) << query;
    EXPECT_EQ(answer.error().at("message"), json::value(message));
  }
}

TEST_F(ConformanceTest, Section3_4_WrongProof) {
  for (const Credentials& wrong : {Credentials{acme_.token, std::string(kOtherSecret)},
                                   Credentials{acme_.token, std::string(kSecret).substr(1) + "0"}}) {
    std::string query = signed_query(wrong);
    const Answer answer = send(verb::get, "/community?" + query);
    EXPECT_TRUE(IsGraphError(answer, 400, "GraphMethodException", 100));
    EXPECT_EQ(answer.error().at("message"), json::value("Invalid appsecret_proof provided in the API argument"));
  }
  // A proof for another time than the one sent.
  const auto proof = core::make_appsecret_proof(Secret(acme_.secret), AccessToken(acme_.token), clock_.unix_seconds());
  const Answer answer = send(verb::get, "/community?access_token=" + acme_.token + "&appsecret_proof=" + proof.proof +
                                            "&appsecret_time=" + std::to_string(clock_.unix_seconds() - 1));
  EXPECT_TRUE(IsGraphError(answer, 400, "GraphMethodException", 100));
}

TEST_F(ConformanceTest, Section3_2_ProofWindowIs300SecondsPastAnd60Future) {
  EXPECT_EQ(send(verb::get, "/me?" + signed_query(acme_, -300)).status, 200u);
  EXPECT_EQ(send(verb::get, "/me?" + signed_query(acme_, 60)).status, 200u);
  for (const std::int64_t skew : {-301, 61}) {
    const Answer answer = send(verb::get, "/me?" + signed_query(acme_, skew));
    EXPECT_TRUE(IsGraphError(answer, 400, "GraphMethodException", 100)) << skew;
    EXPECT_EQ(answer.error().at("message"), json::value("Invalid appsecret_proof provided in the API argument"));
  }
}

TEST_F(ConformanceTest, Section2_6_TokenInAuthorizationHeaderWithProofInQuery) {
  const std::string query = signed_query(acme_);
  const std::string proof_only = query.substr(query.find("appsecret_proof"));
  for (const std::string scheme : {"Bearer ", "OAuth "}) {
    const Answer answer = send(verb::get, "/me?" + proof_only, {}, {}, {{"Authorization", scheme + acme_.token}});
    EXPECT_EQ(answer.status, 200u) << scheme << answer.raw;
  }
}

TEST_F(ConformanceTest, Section2_6_TokenAndProofInFormOrJsonBody) {
  const Answer form = send(verb::post, "/me/subscribed_apps", signed_query(acme_), "application/x-www-form-urlencoded");
  EXPECT_EQ(form.status, 200u) << form.raw;
  const auto proof = core::make_appsecret_proof(Secret(acme_.secret), AccessToken(acme_.token), clock_.unix_seconds());
  const json::object body{{"access_token", acme_.token}, {"appsecret_proof", proof.proof}, {"appsecret_time", proof.time}};
  const Answer json_body = send(verb::post, "/me/subscribed_apps", json::serialize(body), "application/json");
  EXPECT_EQ(json_body.status, 200u) << json_body.raw;
  EXPECT_EQ(json_body.body.at("success"), true);
}

TEST_F(ConformanceTest, Section2_5_VersionPrefixOrNoneBehaveAlike) {
  const Answer plain = get("/community");
  ASSERT_EQ(plain.status, 200u) << plain.raw;
  for (const std::string version : {"/v2.9", "/v3.2", "/v15.0"}) {
    const Answer versioned = get(version + "/community");
    EXPECT_EQ(versioned.status, 200u) << version;
    EXPECT_EQ(versioned.body, plain.body) << version;
  }
  EXPECT_TRUE(IsGraphError(get("/v3/community"), 400, "GraphMethodException", 100, 33));
}

TEST_F(ConformanceTest, Section7_AppTokenOnlyOnSubscriptionsAndTheAppNode) {
  EXPECT_EQ(send(verb::get, "/app/subscriptions?access_token=" + url_encode(app_token_.token)).status, 200u);
  const Answer app = send(verb::get, "/app?access_token=" + url_encode(app_token_.token));
  EXPECT_EQ(app.body, (json::object{{"id", kAppId}, {"name", "Helpdesk"}}));
  EXPECT_EQ(send(verb::get, "/" + std::string(kAppId) + "?access_token=" + url_encode(app_token_.token)).body, app.body);
  EXPECT_EQ(get("/" + std::string(kAppId)).body, app.body);
  EXPECT_TRUE(IsGraphError(send(verb::get, "/community?access_token=" + url_encode(app_token_.token)), 400, "OAuthException", 200));
  EXPECT_TRUE(IsGraphError(send(verb::get, "/" + std::string(kOtherAppId) + "?access_token=" + url_encode(app_token_.token)), 400,
                           "GraphMethodException", 100, 33));
  // A wrong secret in the app token, and an install token where the app token is required.
  EXPECT_TRUE(IsGraphError(send(verb::get, "/app/subscriptions?access_token=" + std::string(kAppId) + "%7Cwrong"), 400,
                           "OAuthException", 190));
  EXPECT_TRUE(IsGraphError(get("/app/subscriptions"), 400, "OAuthException", 15));
}

TEST_F(ConformanceTest, Section11_1_UnknownPathsAndObjectsAre100Subcode33) {
  for (const std::string path :
       {"/nothing-here", "/me/unknown_edge", "/a/b/c/d", "/v3.2/a/b/c/d", "/v3.2/a/b/c/d/e/f/g/h/i", "/424242"}) {
    const Answer answer = get(path);
    EXPECT_TRUE(IsGraphError(answer, 400, "GraphMethodException", 100, 33)) << path;
    EXPECT_THAT(std::string(answer.error().at("message").as_string()), HasSubstr("Unsupported get request."));
  }
  const Answer post = send(verb::post, "/424242/likes?" + signed_query(acme_));
  EXPECT_EQ(post.error().at("message"),
            json::value("Unsupported post request. Object with ID '424242' does not exist, cannot be loaded due to "
                        "missing permissions, or does not support this operation"));
}

TEST_F(ConformanceTest, Section11_1_EveryResponseIsJsonWithUsage) {
  for (const Answer& answer : {get("/me"), get("/nope"), send(verb::get, "/me"), exchange("x")}) {
    EXPECT_EQ(answer.header("Content-Type"), "application/json; charset=UTF-8");
    EXPECT_FALSE(answer.header("X-App-Usage").empty());
    EXPECT_TRUE(json::parse(answer.header("X-App-Usage")).is_object());
  }
}

TEST_F(ConformanceTest, Section2_6_MalformedBodiesArePlatformErrors) {
  const std::string query = "/me/messages?" + signed_query(acme_);
  EXPECT_TRUE(IsGraphError(send(verb::post, query, "{\"recipient\":", "application/json"), 400, "OAuthException", 100));
  EXPECT_TRUE(IsGraphError(send(verb::post, query, "[1,2]", "application/json"), 400, "OAuthException", 100));
  EXPECT_TRUE(IsGraphError(send(verb::post, query, "hello", "text/plain"), 400, "OAuthException", 100));
  EXPECT_TRUE(IsGraphError(send(verb::post, query, "a=%zz", "application/x-www-form-urlencoded"), 400,
                           "OAuthException", 100));
  EXPECT_TRUE(IsGraphError(send(verb::post, query, "--x\r\nbroken", "multipart/form-data; boundary=x"), 400,
                           "OAuthException", 100));
  // Deeply bracketed keys and absurd selections are refused or ignored, never fatal.
  std::string deep = "a";
  for (int i = 0; i < 200; ++i) deep += "[x]";
  EXPECT_EQ(send(verb::get, "/me?" + url_encode(deep) + "=1&" + signed_query(acme_)).status, 200u);
  EXPECT_TRUE(IsGraphError(get("/me?fields=" + url_encode(std::string(300, '{'))), 400, "OAuthException", 100));
  EXPECT_EQ(get("/me").status, 200u);
}

TEST_F(ConformanceTest, Section2_6_HostileParametersAreRefusedOrIgnoredNeverFatal) {
  const std::vector<std::string> hostile = {
      "limit=-1",          "limit=99999999999999999999", "limit=5001",          "after=%00%01",
      "before=%FF%FE",     "fields=" + url_encode("a.limit(99999999999)"), "fields=" + url_encode("a.as(b c)"),
      "fields=%00",        "fields=" + url_encode("[1,2]"), "ids=" + url_encode(std::string(60, ',')),
      "fields=" + url_encode(std::string(5000, 'a')), "x%5B%5D%5B%5D%5B0%5D%5Ba%5D=1"};
  for (const std::string& query : hostile) {
    for (const std::string path : {"/community/members", "/me", "/"}) {
      const Answer answer = get(path + "?" + query);
      ASSERT_TRUE(answer.answered) << path << "?" << query;
      EXPECT_TRUE(answer.body.is_object()) << path << "?" << query << " → " << answer.raw;
      if (answer.status != 200) {
        // Refusals are the platform's invalid-parameter errors, never a crash or a server error.
        EXPECT_TRUE(IsGraphError(answer, 400, "OAuthException", 100)) << path << "?" << query;
      }
    }
  }
  EXPECT_EQ(get("/me").status, 200u);
}

}  // namespace
}  // namespace wik::emulator::testing
