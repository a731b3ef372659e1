// G5 with C1 and E1: the bad-input matrix (docs/RELIABILITY.md). One real wik::App (app_fixture.h),
// installed in the emulator's seed community, holding a row in a registered app table, a community
// setting, an account link waiting to be used, a stored webhook event and a signed-in admin browser.
// Every endpoint the App serves and every kind of endpoint of the emulator (its pages, its control
// API, its Graph host) then gets one table of hostile requests, sent as raw bytes over loopback:
// malformed, oversized, unsigned, wrongly signed, replayed, expired, cross-site and cross-community.
// Each must get its documented status; neither the answer (status line, headers, body) nor the App's
// log may hold a stack trace, a source path, a secret, a token, a code or the signature the input
// should have had; and every table of the App's database, and the emulator's platform state, must be
// exactly as before. The platform samples' mistakes (research §6) are cases of the table: checks
// that accept unsigned deliveries, the valid signature of an attacker's body logged or shown, the
// expected deauthorization signature echoed, stack traces in answers, the code or token in a page.
#include <boost/json/serialize.hpp>

#include <chrono>
#include <iostream>
#include <map>
#include <set>

#include "app/app_fixture.h"
#include "core/appsecret_proof.h"
#include "core/base64url.h"
#include "core/hex.h"
#include "core/hmac.h"
#include "core/hub_signature.h"
#include "core/secure_random.h"
#include "core/signed_request.h"
#include "emulator/state/state_file.h"
#include "http/raw_connection.h"
#include "install/test_browser.h"
#include "reliability/webhook_sender.h"

namespace wik {
namespace {

namespace json = boost::json;
using testing::AppTest;
using testing::IsOk;
using testing::kAppId;
using testing::kSecret;

constexpr const char* kPassword = "correct horse battery";
constexpr const char* kForm = "Content-Type: application/x-www-form-urlencoded\r\n";
constexpr const char* kJson = "Content-Type: application/json\r\n";
constexpr const char* kCrossSite = "Sec-Fetch-Site: cross-site\r\nOrigin: https://attacker.example\r\n";

// Text that shows an answer carries a stack trace, a source path or an exception's text.
constexpr std::string_view kInternals[] = {".cpp", ".hpp", "/src/", "/usr/", "std::", "boost::",
                                           "what():", "terminate called", "Traceback", "stack trace"};

// The source tree's path, which no answer may name.
std::string source_root() {
  const std::string file = __FILE__;
  return file.substr(0, file.rfind("/tests/"));
}

enum class Server { kApp, kEmulatorWeb, kEmulatorGraph };

// One hostile request and what it must get.
struct BadInput {
  std::string name;
  Server server = Server::kApp;
  std::string request;  // the whole HTTP/1.1 request, as bytes
  unsigned status = 0;  // the documented answer
  std::vector<std::string> never_shown = {};  // beyond the fixture's secrets: the expected signature, a code
  std::string says = {};  // when set, text the answer's body must hold: the documented error code
};

// Returns the error code of wik's error body that the kit's webhook and deauthorization callbacks
// answer with `status`, as the one error table maps it (src/http/error_status.cpp).
std::string error_code_for(unsigned status) {
  switch (status) {
    case 403: return "\"bad_signature\"";
    case 413: return "\"too_large\"";
    case 415: return "\"unsupported\"";
    default: return "\"malformed\"";
  }
}

// Returns an HTTP/1.1 request of `method` for `target`, with `headers` (lines ending in \r\n) and `body`.
std::string http_request(std::string_view method, std::string_view target, std::string_view headers = {},
                         std::string_view body = {}) {
  std::string request = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  request += "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  request += headers;
  request += "\r\n";
  request += body;
  return request;
}

std::string hex_hmac_sha256(std::string_view key, std::string_view message) {
  return core::to_hex(core::hmac_sha256(key, message));
}

// Returns "signature.payload" for an arbitrary payload text, signed as the platform signs (hex form).
std::string signed_request_over(std::string_view payload_text) {
  const std::string payload = core::base64url_encode(payload_text);
  return core::base64url_encode(hex_hmac_sha256(kSecret, payload)) + "." + payload;
}

// Returns the signature `signed_request`'s payload should carry: in both encodings, and the hex digest.
std::vector<std::string> expected_signatures(std::string_view signed_request) {
  const std::string_view payload = signed_request.substr(signed_request.find('.') + 1);
  return {core::base64url_encode(hex_hmac_sha256(kSecret, payload)),
          core::base64url_encode(core::hmac_sha256(kSecret, payload)),
          hex_hmac_sha256(kSecret, payload)};
}

// Returns a row's columns as one line, each length-prefixed, NULL apart from "".
std::string row_text(const store::Row& row) {
  std::string line;
  for (std::size_t column = 0; column < row.size(); ++column) {
    const std::string& text = row.text(column);
    line += row.is_null(column) ? std::string("NULL;") : std::to_string(text.size()) + ":" + text;
  }
  return line;
}

// A message handler that handles every event without answering, so nothing waits once it ran.
boost::asio::awaitable<Result<void>> ignore_message(Context&, const Message&) { co_return ok_result(); }

class BadInputTest : public AppTest {
 protected:
  void SetUp() override {
    AppTest::SetUp();
    config_.app.reverify_interval = std::chrono::hours(0);  // no background Graph calls that would record health
    start_installed_app([](App& app) {
      app.name("Notes")
          .on_message(ignore_message)
          .schema("CREATE TABLE IF NOT EXISTS notes (community_id TEXT NOT NULL, body TEXT NOT NULL)")
          .register_table("notes", "community_id")
          .community_setting({.name = "greeting", .label = "Greeting", .default_value = "Hello", .max_length = 40});
    });
    acme_ = install_.community_id;
    auto database = app::open_database(config_);
    ASSERT_THAT(database, IsOk());
    database_ = std::move(*database);
    const std::string note = "a note of Acme";
    const Result<void> noted = database_->transact([&](store::Transaction& tx) -> Result<void> {
      auto inserted = tx.execute("INSERT INTO notes (community_id, body) VALUES ($1, $2)", {acme_, note});
      return inserted.ok() ? ok_result() : Result<void>(inserted.error());
    });
    ASSERT_THAT(noted, IsOk());

    // The link token is made on the App's clock, the system's, so that it is live.
    clock_.set_unix_seconds(std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
    auto store = open_kit_store();
    ASSERT_NE(store, nullptr);
    auto admin_account = store->create_account("ops@vendor.test", Secret(kPassword), "admin");
    ASSERT_THAT(admin_account, IsOk());
    admin_account_ = std::to_string(admin_account->id);
    auto other_account = store->create_account("someone@vendor.test", Secret(kPassword), "member");
    ASSERT_THAT(other_account, IsOk());
    other_account_ = std::to_string(other_account->id);
    auto token = store->community(acme_)->create_account_link(
        {.user_id = "100000000000077", .email = "bruno@acme.example", .person_name = "Bruno"},
        std::chrono::minutes(15));
    ASSERT_THAT(token, IsOk());
    link_token_ = std::string(token->expose());

    auto globex = emulator_->state().create_community("Globex");
    ASSERT_THAT(globex, IsOk());
    globex_ = globex->id;
    auto stranger = emulator_->state().create_user(globex_, {.name = "Gina Globex", .email = "gina@globex.example"});
    ASSERT_THAT(stranger, IsOk());
    globex_person_ = stranger->id;

    testing::TestBrowser admin(io_, *http_, "http://127.0.0.1:" + std::to_string(app_->port()));
    ASSERT_EQ(testing::sign_in(admin, "ops@vendor.test", kPassword, "/admin").status, 303u);
    csrf_ = admin.cookie("wik_csrf").value_or("");
    sessions_ = admin.cookie("wik_sessions").value_or("");
    ASSERT_FALSE(csrf_.empty() || sessions_.empty());

    testing::TestBrowser ada(io_, *http_, emulator_->web_url());
    const auto start = ada.get("/");
    ASSERT_EQ(ada.post("/login", {{"csrf", testing::hidden_field(start.body, "csrf")}, {"user_id", admin_id_}}).status,
              303u);
    emulator_session_ = ada.cookie("wik_emulator_session").value_or("");
    ASSERT_FALSE(emulator_session_.empty());

    captured_delivery_ = signed_delivery(delivery_for(acme_, "mid.$captured"));
    const auto stored = send(Server::kApp, captured_delivery_);
    ASSERT_TRUE(stored && stored->status == 200u) << (stored ? stored->body : "no answer");
    ASSERT_TRUE(testing::eventually([&] { return settled(); })) << "the App kept changing its database";
  }

  void TearDown() override {
    database_.reset();
    AppTest::TearDown();
  }

  // A new chat message delivery for `community_id` (the platform's form: PROTOCOL.md §6.5).
  std::string delivery_for(const std::string& community_id, const std::string& mid) {
    return testing::chat_message_delivery(community_id, "100015782744077", mid, "hello");
  }

  // A POST of `body` to the webhook, signed as the platform signs it.
  std::string signed_delivery(const std::string& body) {
    return http_request("POST", "/workplace/webhook",
                        std::string(kJson) + "X-Hub-Signature-256: " +
                            core::sign_hub_signature(core::HubAlgorithm::kSha256, Secret(kSecret), body) + "\r\n",
                        body);
  }

  // A POST of `body` to the webhook with `signature_headers`, which must never be answered with the
  // signature the body should have had.
  BadInput forged_delivery(std::string name, const std::string& body, const std::string& signature_headers,
                           unsigned status = 403) {
    return {.name = std::move(name),
            .request = http_request("POST", "/workplace/webhook", std::string(kJson) + signature_headers, body),
            .status = status,
            .never_shown = {hex_hmac_sha256(kSecret, body)},
            .says = error_code_for(status)};
  }

  // A deauthorization callback carrying `signed_request` as a form.
  BadInput deauthorization(std::string name, const std::string& signed_request, unsigned status,
                           std::string says = {}) {
    return {.name = std::move(name),
            .request = http_request("POST", "/workplace/deauthorize", kForm,
                                    http::encode_form({{"signed_request", signed_request}})),
            .status = status,
            .never_shown = expected_signatures(signed_request),
            .says = says.empty() ? error_code_for(status) : std::move(says)};
  }

  // A form POST to the App with the signed-in admin's cookies and `extra_headers`.
  std::string admin_form(std::string_view target, const std::vector<std::pair<std::string, std::string>>& fields,
                         std::string_view extra_headers = {}) {
    return http_request("POST", target, std::string(kForm) + admin_cookies() + std::string(extra_headers),
                        http::encode_form(fields));
  }

  std::string admin_cookies() const { return "Cookie: wik_sessions=" + sessions_ + "; wik_csrf=" + csrf_ + "\r\n"; }

  // Signs an install-token Graph call as of `unix_time`.
  std::string proof_query(std::int64_t unix_time) const {
    const auto proof = core::make_appsecret_proof(Secret(kSecret), AccessToken(install_.access_token), unix_time);
    return "access_token=" + install_.access_token + "&appsecret_proof=" + proof.proof +
           "&appsecret_time=" + proof.time;
  }

  std::vector<BadInput> cases() {
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    const std::string body = delivery_for(acme_, "mid.$hostile");
    const std::string signature = core::sign_hub_signature(core::HubAlgorithm::kSha256, Secret(kSecret), body);
    std::string altered = body;
    altered[altered.find("hello")] = 'j';
    const auto sign = [](const std::string& text) {
      return "X-Hub-Signature-256: " + core::sign_hub_signature(core::HubAlgorithm::kSha256, Secret(kSecret), text) +
             "\r\n";
    };
    std::string too_many = "{\"object\":\"page\",\"entry\":[";
    for (int i = 0; i < 1001; ++i) {
      const json::value one = json::parse(delivery_for(acme_, "mid.$batch" + std::to_string(i)));
      too_many += (i ? "," : "") + json::serialize(one.at("entry").at(0));
    }
    too_many += "]}";
    const std::string deep(100000, '[');
    const std::string bad_utf8 = "{\"object\":\"page\",\"entry\":[{\"id\":\"\xff\xfe\",\"messaging\":[]}]}";

    const json::object deauth = {{"algorithm", "HMAC-SHA256"}, {"community_id", acme_}, {"issued_at", now}};
    const std::string valid_deauth = core::create_signed_request(deauth, Secret(kSecret));
    const auto with = [&](std::string_view key, json::value value) {
      json::object payload = deauth;
      payload[key] = std::move(value);
      return core::create_signed_request(payload, Secret(kSecret));
    };
    json::object without_community = deauth;
    without_community.erase("community_id");
    std::string one_byte_off = valid_deauth;
    one_byte_off.back() = one_byte_off.back() == 'A' ? 'B' : 'A';

    const std::string settings = "/admin/communities/" + acme_ + "/settings";
    const std::string code = "canary-code-" + core::secure_random_token(8);
    const std::string emulator_cookie = "Cookie: wik_emulator_session=" + emulator_session_ + "\r\n";
    const std::string huge_header = "X-Padding: " + std::string(9000, 'a') + "\r\n";
    const std::string person = "/_emulator/users/" + person_id_;
    const std::string good_proof = proof_query(now);

    return {
        // The subscription handshake.
        {.name = "C7 handshake with a wrong verify token",
         .request = http_request("GET", "/workplace/webhook?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1"),
         .status = 403},
        {.name = "C7 handshake whose challenge is a script",
         .request = http_request("GET", "/workplace/webhook?hub.mode=subscribe&hub.verify_token=" +
                                            std::string(testing::kVerifyToken) +
                                            "&hub.challenge=%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
         .status = 403},
        {.name = "C7 handshake with a challenge of 129 characters",
         .request = http_request("GET", "/workplace/webhook?hub.mode=subscribe&hub.verify_token=" +
                                            std::string(testing::kVerifyToken) + "&hub.challenge=" +
                                            std::string(129, 'c')),
         .status = 403},
        {.name = "C7 handshake with invalid percent-encoding",
         .request = http_request("GET", "/workplace/webhook?hub.mode=subscribe&hub.verify_token=%zz&hub.challenge=1"),
         .status = 400},
        // Deliveries.
        forged_delivery("C1 unsigned delivery (signature checks cannot be off)", body, ""),
        forged_delivery("C1 only the SHA-1 header, SHA-1 not configured", body,
                        "X-Hub-Signature: " +
                            core::sign_hub_signature(core::HubAlgorithm::kSha1, Secret(kSecret), body) + "\r\n"),
        forged_delivery("C1 signed with another secret", body,
                        "X-Hub-Signature-256: " +
                            core::sign_hub_signature(core::HubAlgorithm::kSha256, Secret("not-the-app-secret"), body) +
                            "\r\n"),
        forged_delivery("C1 body altered by one byte after signing", altered,
                        "X-Hub-Signature-256: " + signature + "\r\n"),
        forged_delivery("C1 body truncated after signing", body.substr(0, body.size() - 1),
                        "X-Hub-Signature-256: " + signature + "\r\n"),
        forged_delivery("C1 signature without its sha256= prefix", body,
                        "X-Hub-Signature-256: " + signature.substr(7) + "\r\n"),
        forged_delivery("C1 empty signature", body, "X-Hub-Signature-256: \r\n"),
        forged_delivery("C1 a wrong signature header before the right one", body,
                        "X-Hub-Signature-256: sha256=" + std::string(64, '0') +
                            "\r\nX-Hub-Signature-256: " + signature + "\r\n"),
        forged_delivery("C1 empty body, signed", "", sign(""), 400),
        forged_delivery("C10 body that is not JSON, signed", "not json", sign("not json"), 400),
        forged_delivery("C10 JSON array, signed", "[]", sign("[]"), 400),
        forged_delivery("C10 JSON nested 100000 deep, signed", deep, sign(deep), 400),
        forged_delivery("C10 invalid UTF-8, signed", bad_utf8, sign(bad_utf8), 400),
        forged_delivery("C6 1001 events in one delivery, signed", too_many, sign(too_many), 413),
        {.name = "C10 body over 4 MiB announced",
         .request = "POST /workplace/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    "X-Hub-Signature-256: " + signature + "\r\nContent-Length: 4194305\r\n\r\n{\"object\":",
         .status = 413},
        {.name = "C3 a captured delivery replayed (a duplicate, answered 200)",
         .request = captured_delivery_,
         .status = 200},
        {.name = "C8 a signed delivery for a community that did not install the app (answered 200)",
         .request = signed_delivery(delivery_for(globex_, "mid.$globex")),
         .status = 200},
        // The deauthorize callback.
        {.name = "E1 no signed_request field",
         .request = http_request("POST", "/workplace/deauthorize", kForm, "other=1"),
         .status = 400},
        {.name = "E1 a text/plain body",
         .request = http_request("POST", "/workplace/deauthorize", "Content-Type: text/plain\r\n",
                                 "signed_request=" + valid_deauth),
         .status = 415,
         .never_shown = expected_signatures(valid_deauth)},
        {.name = "E1 a JSON body that is not JSON",
         .request = http_request("POST", "/workplace/deauthorize", kJson, "{\"signed_request\":"),
         .status = 400},
        deauthorization("E1 signed with another secret",
                        core::create_signed_request(deauth, Secret("not-the-app-secret")), 403),
        deauthorization("E1 payload altered by one byte after signing", one_byte_off, 403),
        deauthorization("E1 algorithm HMAC-SHA1", with("algorithm", "HMAC-SHA1"), 415),
        deauthorization("E1 no dot", valid_deauth.substr(0, valid_deauth.find('.')), 400),
        deauthorization("E1 three parts", valid_deauth + ".e30", 400),
        deauthorization("E1 not base64url", "!!!!.@@@@", 400),
        deauthorization("E1 payload not JSON, signed", signed_request_over("not json"), 400),
        deauthorization("E1 no community_id, signed", core::create_signed_request(without_community, Secret(kSecret)),
                        400),
        deauthorization("E1 community_id not decimal, signed", with("community_id", "12ab"), 400),
        deauthorization("E2 replayed two hours after it was issued", with("issued_at", now - 7200), 400, "\"expired\""),
        deauthorization("E2 issued an hour in the future", with("issued_at", now + 3600), 400, "\"expired\""),
        deauthorization("E1 signed_request over 8 KiB", with("padding", json::string(std::string(9000, 'p'))), 413),
        {.name = "E1 body over 16 KiB",
         .request = http_request("POST", "/workplace/deauthorize", kForm,
                                 http::encode_form({{"signed_request", valid_deauth},
                                                    {"padding", std::string(17000, 'p')}})),
         .status = 413,
         .never_shown = expected_signatures(valid_deauth)},
        // The install redirect and its confirmation.
        {.name = "A no code", .request = http_request("GET", "/workplace/install"), .status = 400},
        {.name = "A a forged state",
         .request = http_request("GET", "/workplace/install?code=" + code + "&state=forged-state"),
         .status = 400,
         .never_shown = {code}},
        {.name = "A a code Workplace never issued",
         .request = http_request("GET", "/workplace/install?code=" + code),
         .status = 400,
         .never_shown = {code}},
        {.name = "A invalid percent-encoding in the code",
         .request = http_request("GET", "/workplace/install?code=%zz%"),
         .status = 400},
        {.name = "A confirmation page with nothing waiting",
         .request = http_request("GET", "/workplace/install/confirm", admin_cookies()),
         .status = 404},
        {.name = "A confirmation without the CSRF token",
         .request = admin_form("/workplace/install/confirm", {{"action", "install"}, {"account", admin_account_}}),
         .status = 403},
        {.name = "A confirmation with nothing waiting",
         .request = admin_form("/workplace/install/confirm",
                               {{"csrf", csrf_}, {"action", "install"}, {"account", admin_account_}}),
         .status = 404},
        {.name = "A install start without the CSRF token",
         .request = admin_form("/admin/install", {{"account", admin_account_}}),
         .status = 403},
        {.name = "A install start from another site",
         .request = admin_form("/admin/install", {{"csrf", csrf_}, {"account", admin_account_}}, kCrossSite),
         .status = 403},
        // Sign-in and sign-out.
        {.name = "A sign-in without the CSRF token",
         .request = http_request("POST", "/signin", kForm,
                                 http::encode_form({{"email", "ops@vendor.test"}, {"password", kPassword}})),
         .status = 403},
        {.name = "A sign-in from another site (login CSRF)",
         .request = admin_form("/signin", {{"csrf", csrf_}, {"email", "ops@vendor.test"}, {"password", kPassword}},
                               kCrossSite),
         .status = 403},
        {.name = "A sign-in with a wrong password",
         .request = admin_form("/signin", {{"csrf", csrf_}, {"email", "ops@vendor.test"}, {"password", "guess"}}),
         .status = 401},
        {.name = "A sign-in as JSON",
         .request = http_request("POST", "/signin", std::string(kJson) + admin_cookies(),
                                 "{\"csrf\":\"" + csrf_ + "\",\"email\":\"ops@vendor.test\"}"),
         .status = 403},
        {.name = "A sign-in form over 4 KiB",
         .request = admin_form("/signin", {{"csrf", csrf_}, {"email", std::string(5000, 'e')}, {"password", "x"}}),
         .status = 413},
        {.name = "A sign-out with a wrong CSRF token",
         .request = admin_form("/signout", {{"csrf", "forged"}}),
         .status = 403},
        // The admin pages and their forms.
        {.name = "G5 settings without the CSRF token",
         .request = admin_form(settings, {{"greeting", "Forged"}}),
         .status = 403},
        {.name = "G5 settings with another CSRF token",
         .request = admin_form(settings, {{"csrf", core::secure_random_token(32)}, {"greeting", "Forged"}}),
         .status = 403},
        {.name = "G5 settings from another site",
         .request = admin_form(settings, {{"csrf", csrf_}, {"greeting", "Forged"}}, kCrossSite),
         .status = 403},
        {.name = "G5 settings from another Origin, without Sec-Fetch-Site",
         .request = admin_form(settings, {{"csrf", csrf_}, {"greeting", "From elsewhere"}},
                               "Origin: https://attacker.example\r\n"),
         .status = 403},
        {.name = "G5 settings with a line break",
         .request = admin_form(settings, {{"csrf", csrf_}, {"greeting", "Hello\nworld"}}),
         .status = 400},
        {.name = "G5 settings with invalid UTF-8",
         .request = admin_form(settings, {{"csrf", csrf_}, {"greeting", "Hello \xff\xfe"}}),
         .status = 400},
        {.name = "G5 settings over the setting's length",
         .request = admin_form(settings, {{"csrf", csrf_}, {"greeting", std::string(41, 'g')}}),
         .status = 400},
        {.name = "G5 settings with an undeclared setting",
         .request = admin_form(settings, {{"csrf", csrf_}, {"greeting", "Hi"}, {"admin", "yes"}}),
         .status = 400},
        {.name = "G5 settings with invalid percent-encoding",
         .request = http_request("POST", settings, std::string(kForm) + admin_cookies(),
                                 "csrf=" + csrf_ + "&greeting=%zz%"),
         .status = 403},
        {.name = "F settings of another community",
         .request = admin_form("/admin/communities/" + globex_ + "/settings", {{"csrf", csrf_}, {"greeting", "Hi"}}),
         .status = 404},
        {.name = "F settings of a community id that is not one",
         .request = admin_form("/admin/communities/..%2F1/settings", {{"csrf", csrf_}, {"greeting", "Hi"}}),
         .status = 404},
        {.name = "G5 settings form over 64 KiB",
         .request = admin_form(settings, {{"csrf", csrf_}, {"greeting", std::string(70000, 'g')}}),
         .status = 413},
        {.name = "G5 replay without the CSRF token",
         .request = admin_form("/admin/replay", {{"community", acme_}}),
         .status = 403},
        {.name = "G5 replay of a community id that is not one",
         .request = admin_form("/admin/replay", {{"csrf", csrf_}, {"community", "12\x01"}}),
         .status = 400},
        {.name = "F the page of another community",
         .request = http_request("GET", "/admin/communities/" + globex_, admin_cookies()),
         .status = 404},
        {.name = "G5 a community page with invalid UTF-8 in the path",
         .request = http_request("GET", "/admin/communities/%FF%FE", admin_cookies()),
         .status = 404},
        // The account-link page.
        {.name = "F link with an unknown token",
         .request = http_request("GET", "/link?c=" + acme_ + "&t=" + core::secure_random_token(32)),
         .status = 404},
        {.name = "F link token shown under another community",
         .request = http_request("GET", "/link?c=" + globex_ + "&t=" + link_token_),
         .status = 404},
        {.name = "G5 link with invalid percent-encoding",
         .request = http_request("GET", "/link?c=%zz&t=%"),
         .status = 400},
        {.name = "F link confirmation without the CSRF token",
         .request = admin_form("/link", {{"c", acme_}, {"t", link_token_}, {"account", admin_account_}}),
         .status = 403},
        {.name = "F link confirmation from another site",
         .request = admin_form("/link",
                               {{"csrf", csrf_}, {"c", acme_}, {"t", link_token_}, {"account", admin_account_}},
                               kCrossSite),
         .status = 403},
        {.name = "F link confirmation for an account not signed in on this browser",
         .request = admin_form("/link",
                               {{"csrf", csrf_}, {"c", acme_}, {"t", link_token_}, {"account", other_account_}}),
         .status = 403},
        {.name = "F link confirmation under another community",
         .request = admin_form("/link",
                               {{"csrf", csrf_}, {"c", globex_}, {"t", link_token_}, {"account", admin_account_}}),
         .status = 404},
        // The HTTP layer.
        {.name = "G4 a header over 8 KiB",
         .request = http_request("GET", "/admin", admin_cookies() + huge_header),
         .status = 431},
        {.name = "G3 a request line that is not HTTP", .request = "GARBAGE\r\n\r\n", .status = 400},
        {.name = "G3 Content-Length with Transfer-Encoding",
         .request = "POST /workplace/deauthorize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                    "application/x-www-form-urlencoded\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "0\r\n\r\n",
         .status = 400},
        {.name = "G5 a method no route serves",
         .request = http_request("DELETE", "/workplace/webhook"),
         .status = 405},
        // The emulator's control API.
        {.name = "EMU control API with text/plain",
         .server = Server::kEmulatorWeb,
         .request = http_request("POST", "/_emulator/communities", "Content-Type: text/plain\r\n", "{\"name\":\"X\"}"),
         .status = 415},
        {.name = "EMU control API with a body that is not JSON",
         .server = Server::kEmulatorWeb,
         .request = http_request("POST", "/_emulator/communities", kJson, "{\"name\":"),
         .status = 400},
        {.name = "EMU control API with an unknown field",
         .server = Server::kEmulatorWeb,
         .request = http_request("POST", "/_emulator/communities", kJson, "{\"nmae\":\"X\"}"),
         .status = 400},
        {.name = "EMU control API with invalid UTF-8",
         .server = Server::kEmulatorWeb,
         .request = http_request("POST", "/_emulator/communities", kJson, "{\"name\":\"\xff\xfe\"}"),
         .status = 400},
        {.name = "EMU a message to an unknown thread",
         .server = Server::kEmulatorWeb,
         .request = http_request("POST", person + "/messages", kJson, "{\"thread_id\":\"999\",\"text\":\"x\"}"),
         .status = 404},
        {.name = "EMU an install by someone who is not an administrator",
         .server = Server::kEmulatorWeb,
         .request = http_request("POST", "/_emulator/apps/" + std::string(kAppId) + "/install", kJson,
                                 "{\"admin_id\":\"" + person_id_ + "\"}"),
         .status = 403},
        {.name = "EMU an uninstall by someone who is not an administrator",
         .server = Server::kEmulatorWeb,
         .request = http_request("POST", "/_emulator/apps/" + std::string(kAppId) + "/uninstall", kJson,
                                 "{\"admin_id\":\"" + person_id_ + "\"}"),
         .status = 403},
        // The emulator's pages.
        {.name = "EMU uninstall page form without the CSRF token",
         .server = Server::kEmulatorWeb,
         .request = http_request("POST", "/work/admin/uninstall", std::string(kForm) + emulator_cookie,
                                 http::encode_form({{"app_id", kAppId}})),
         .status = 403},
        {.name = "EMU uninstall page form with another CSRF token",
         .server = Server::kEmulatorWeb,
         .request = http_request("POST", "/work/admin/uninstall", std::string(kForm) + emulator_cookie,
                                 http::encode_form({{"csrf", core::secure_random_token(32)}, {"app_id", kAppId}})),
         .status = 403},
        {.name = "EMU sign-in without the CSRF token",
         .server = Server::kEmulatorWeb,
         .request = http_request("POST", "/login", kForm, http::encode_form({{"user_id", admin_id_}})),
         .status = 403},
        {.name = "EMU a header over 8 KiB",
         .server = Server::kEmulatorWeb,
         .request = http_request("GET", "/", huge_header),
         .status = 431},
        // The emulator's Graph host.
        {.name = "EMU Graph call without a token",
         .server = Server::kEmulatorGraph,
         .request = http_request("GET", "/community"),
         .status = 400},
        {.name = "EMU Graph call without a proof",
         .server = Server::kEmulatorGraph,
         .request = http_request("GET", "/community?access_token=" + install_.access_token),
         .status = 400},
        {.name = "EMU Graph call with a wrong proof",
         .server = Server::kEmulatorGraph,
         .request = http_request("GET", "/community?access_token=" + install_.access_token +
                                            "&appsecret_proof=" + std::string(64, '0') +
                                            "&appsecret_time=" + std::to_string(now)),
         .status = 400},
        {.name = "EMU Graph call with an expired proof",
         .server = Server::kEmulatorGraph,
         .request = http_request("GET", "/community?" + proof_query(now - 1000)),
         .status = 400},
        {.name = "EMU Graph call for another community's person",
         .server = Server::kEmulatorGraph,
         .request = http_request("GET", "/" + globex_person_ + "?" + good_proof),
         .status = 400},
        {.name = "EMU Send API without a message",
         .server = Server::kEmulatorGraph,
         .request = http_request("POST", "/me/messages?" + good_proof, kJson, "{\"recipient\":"),
         .status = 400},
        {.name = "EMU subscription with a wrong app secret",
         .server = Server::kEmulatorGraph,
         .request = http_request("POST", "/app/subscriptions", kForm,
                                 http::encode_form({{"object", "page"},
                                                    {"callback_url", "http://127.0.0.1:9/attacker"},
                                                    {"fields", "messages"},
                                                    {"verify_token", "attacker"},
                                                    {"access_token", std::string(kAppId) + "|guess"}})),
         .status = 400},
        {.name = "EMU token exchange with a code never issued",
         .server = Server::kEmulatorGraph,
         .request = http_request("GET", "/oauth/access_token?client_id=" + std::string(kAppId) +
                                            "&client_secret=" + kSecret + "&redirect_uri=x&code=" + code),
         .status = 400,
         .never_shown = {code}},
    };
  }

  std::optional<http::testing::RawResponse> send(Server server, const std::string& request) {
    const std::uint16_t port = server == Server::kApp             ? app_->port()
                               : server == Server::kEmulatorWeb ? emulator_->web_port()
                                                                 : emulator_->graph_port();
    http::testing::RawConnection connection;
    if (!connection.connect(port)) return std::nullopt;
    connection.send(request);
    return connection.read_response(std::chrono::seconds(5));
  }

  // Returns, per table of the App's database, its row count and a digest of its rows (in any
  // order), and a digest of the emulator's platform state under "emulator".
  std::map<std::string, std::string> fingerprint() {
    std::map<std::string, std::string> tables;
    const Result<void> read = database_->transact([&](store::Transaction& tx) -> Result<void> {
      auto names = tx.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
      if (!names) return names.error();
      for (const store::Row& name : *names) {
        auto rows = tx.query("SELECT * FROM \"" + name.text(0) + "\"");
        if (!rows) return rows.error();
        std::multiset<std::string> lines;
        for (const store::Row& row : *rows) lines.insert(row_text(row));
        std::string all;
        for (const std::string& line : lines) all += line + '\n';
        tables[name.text(0)] = "rows=" + std::to_string(rows->size()) + " sha256=" +
                               core::to_hex(core::sha256(all));
      }
      return ok_result();
    });
    EXPECT_THAT(read, IsOk());
    tables["emulator"] = core::to_hex(core::sha256(emulator_state()));
    return tables;
  }

  // The emulator's communities, people, groups, installs, subscriptions and messages, as text.
  std::string emulator_state() {
    emulator::PlatformState& state = emulator_->state();
    json::array all;
    for (const auto& community : state.communities()) {
      all.push_back(json::array{json::value(community.id), json::value(community.name)});
      for (const auto& user : state.users(community.id)) {
        all.push_back(emulator::encode_user(user));
        for (const auto& thread : state.threads_of_user(user.id)) {
          all.push_back(emulator::encode_thread(thread));
          for (const auto& message : state.messages(thread.id)) all.push_back(emulator::encode_message(message));
        }
      }
      for (const auto& group : state.groups(community.id)) {
        all.push_back(json::array{json::value(group.id), json::value(group.name), json::value(group.members.size())});
      }
      for (const auto& install : state.installs(community.id)) all.push_back(emulator::encode_install(install));
    }
    for (const auto& app : state.apps()) {
      all.push_back(json::array{json::value(app.id), json::value(app.name), json::value(app.redirect_url)});
      for (const auto& subscription : state.subscriptions(app.id)) {
        all.push_back(json::array{json::value(subscription.object), json::value(subscription.callback_url),
                                  json::value(subscription.verify_token), json::value(subscription.fields.size())});
      }
    }
    return json::serialize(all);
  }

  // True when the state reads the same twice, 200 ms apart: the stored delivery has been handled.
  bool settled() {
    const auto before = fingerprint();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return fingerprint() == before;
  }

  // Returns what no answer and no log line may hold, in every case. The link token is kept out of
  // the log only: the link page's sign-in link carries it back to the browser that opened the link
  // (docs/identities.md).
  std::vector<std::string> fixture_secrets() const {
    return {kSecret, testing::kVerifyToken, install_.access_token, sessions_, emulator_session_};
  }

  std::string acme_;
  std::string globex_;
  std::string globex_person_;
  std::string admin_account_;  // signed in on the admin browser
  std::string other_account_;  // signed in nowhere
  std::string csrf_;
  std::string sessions_;
  std::string emulator_session_;
  std::string link_token_;
  std::string captured_delivery_;
  std::unique_ptr<store::Database> database_;
};

// Returns the first of `needles` in `text`, or "".
std::string first_found(std::string_view text, const std::vector<std::string>& needles) {
  for (const std::string& needle : needles) {
    if (!needle.empty() && text.find(needle) != std::string_view::npos) return needle;
  }
  return {};
}

// What one case got, against what it must get.
struct Outcome {
  unsigned status = 0;               // 0: no answer
  std::string body;                  // the answer's body
  std::vector<std::string> changed;  // the tables (or "emulator") whose contents changed
  std::string leaked;                // what the answer or the log held that it must not; "" when nothing

  // True when the status, or the error code the case expects, is not the documented one.
  bool wrong_status(const BadInput& input) const {
    return status != input.status || body.find(input.says) == std::string::npos;
  }
  bool correct(const BadInput& input) const { return !wrong_status(input) && changed.empty() && leaked.empty(); }
  std::string describe() const {
    std::string text = "status " + std::to_string(status);
    for (const std::string& table : changed) text += ", " + table + " changed";
    if (!leaked.empty()) text += ", shows " + leaked.substr(0, 80);
    return text;
  }
};

TEST_F(BadInputTest, EveryHostileInputGetsItsStatusLeaksNothingAndChangesNoState) {
  capture_logs();
  std::vector<std::string> internals(std::begin(kInternals), std::end(kInternals));
  internals.push_back(source_root());
  const auto run = [&](const BadInput& input) {
    Outcome outcome;
    const auto before = fingerprint();
    const std::size_t log_start = log_.str().size();
    const auto answer = send(input.server, input.request);
    const auto after = fingerprint();
    for (const auto& [table, digest] : after) {
      if (!before.contains(table) || before.at(table) != digest) outcome.changed.push_back(table);
    }
    std::string shown;
    if (answer) {
      outcome.status = answer->status;
      for (const auto& field : answer->headers) {
        shown += std::string(field.name_string()) + ": " + std::string(field.value()) + "\n";
      }
      shown += answer->body;
      outcome.body = answer->body;
    }
    std::vector<std::string> secrets = fixture_secrets();
    secrets.insert(secrets.end(), input.never_shown.begin(), input.never_shown.end());
    std::vector<std::string> unlogged = secrets;
    unlogged.push_back(link_token_);
    const std::string logged = log_.str().substr(log_start);
    outcome.leaked = first_found(shown, secrets) + first_found(shown, internals) + first_found(logged, unlogged);
    return outcome;
  };

  int wrong_status = 0;
  int state_changed = 0;
  int leaks = 0;
  const std::vector<BadInput> matrix = cases();
  for (const BadInput& input : matrix) {
    const Outcome outcome = run(input);
    wrong_status += outcome.wrong_status(input) ? 1 : 0;
    state_changed += outcome.changed.empty() ? 0 : 1;
    leaks += outcome.leaked.empty() ? 0 : 1;
    EXPECT_TRUE(outcome.correct(input)) << input.name << ": " << outcome.describe() << ", documented status "
                                        << input.status << " " << input.says << "\n" << outcome.body.substr(0, 300);
  }

  // The checks see what they look for, and the fixture's link is live: the log scan read the App's
  // request lines, a valid handshake shows its challenge, the link page opens (changing nothing),
  // and a valid delivery changes the inbox.
  EXPECT_THAT(log_.str(), ::testing::HasSubstr("POST /workplace/webhook 403"));
  const std::string canary = "canary-" + core::secure_random_token(8);
  const Outcome echoed = run({.name = "control: a valid handshake",
                              .request = http_request("GET", "/workplace/webhook?hub.mode=subscribe&hub.verify_token=" +
                                                                 std::string(testing::kVerifyToken) +
                                                                 "&hub.challenge=" + canary),
                              .status = 200,
                              .never_shown = {canary}});
  EXPECT_EQ(echoed.status, 200u);
  EXPECT_EQ(echoed.leaked, canary);
  const Outcome link_page = run({.name = "control: the link page",
                                 .request = http_request("GET", "/link?c=" + acme_ + "&t=" + link_token_),
                                 .status = 200});
  EXPECT_EQ(link_page.status, 200u);
  EXPECT_THAT(link_page.changed, ::testing::IsEmpty());
  const Outcome stored = run({.name = "control: a valid delivery",
                              .request = signed_delivery(delivery_for(acme_, "mid.$control")),
                              .status = 200});
  EXPECT_EQ(stored.status, 200u);
  EXPECT_THAT(stored.changed, ::testing::Contains("inbox"));

  std::cout << "C1/E1/G5 bad input: cases=" << matrix.size() << ", wrong status=" << wrong_status
            << ", state changed=" << state_changed << ", leaks=" << leaks << std::endl;
}

}  // namespace
}  // namespace wik
