#include "graph_fixture.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <spdlog/spdlog.h>

#include "core/appsecret_proof.h"
#include "support/result_matchers.h"

namespace wik::emulator::testing {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using boost::beast::http::verb;

// co_spawn needs a default-constructible result; Result<T> deliberately is not.
asio::awaitable<std::optional<Result<http::ClientResponse>>> spawnable(http::Client* client,
                                                                      http::ClientRequest request) {
  co_return co_await client->request(std::move(request));
}

const json::object kNoError;

}  // namespace

std::string url_encode(std::string_view text) { return boost::urls::encode(text, boost::urls::unreserved_chars); }

std::string Answer::header(std::string_view name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? std::string() : std::string(it->value());
}

const json::object& Answer::error() const {
  if (!body.is_object()) return kNoError;
  const auto* error = body.get_object().if_contains("error");
  return error != nullptr && error->is_object() ? error->get_object() : kNoError;
}

::testing::AssertionResult IsGraphError(const Answer& answer, unsigned status, std::string_view type, int code,
                                        std::optional<int> subcode) {
  if (!answer.answered) return ::testing::AssertionFailure() << "no answer";
  const json::object& error = answer.error();
  const auto failure = [&] { return ::testing::AssertionFailure() << "answer " << answer.status << " " << answer.raw; };
  if (answer.status != status) return failure() << " (expected status " << status << ")";
  if (!error.contains("type") || error.at("type") != json::value(type)) return failure() << " (expected type " << type << ")";
  if (!error.contains("code") || error.at("code") != json::value(code)) return failure() << " (expected code " << code << ")";
  const auto* actual_subcode = error.if_contains("error_subcode");
  if (subcode && (actual_subcode == nullptr || *actual_subcode != json::value(*subcode))) {
    return failure() << " (expected subcode " << *subcode << ")";
  }
  if (!subcode && actual_subcode != nullptr) return failure() << " (expected no subcode)";
  const auto* trace = error.if_contains("fbtrace_id");
  if (trace == nullptr || !trace->is_string() || trace->get_string().empty()) return failure() << " (no fbtrace_id)";
  if (!error.contains("message") || !error.at("message").is_string()) return failure() << " (no message)";
  if (answer.header("Content-Type") != "application/json; charset=UTF-8") return failure() << " (Content-Type)";
  return ::testing::AssertionSuccess();
}

void GraphFixture::SetUpTestSuite() { spdlog::set_level(spdlog::level::warn); }

void GraphFixture::SetUp() {
  auto opened = PlatformState::open(PlatformOptions{}, clock_);
  ASSERT_TRUE(opened.ok());
  state_ = std::move(opened).value();
  const std::vector<std::string> every_permission = {"message",    "read_user_email", "read_user_work_profile",
                                                     "read_group", "write_group",     "bot_mention",
                                                     "manage_group"};
  for (const auto& [id, secret, name] :
       {std::tuple{kAppId, kSecret, "Helpdesk"}, std::tuple{kOtherAppId, kOtherSecret, "Other"}}) {
    App app;
    app.id = std::string(id);
    app.secret = std::string(secret);
    app.name = name;
    app.redirect_url = std::string(kRedirect);
    app.deauthorize_url = "https://vendor.example/workplace/deauthorize";
    app.permissions = every_permission;
    ASSERT_THAT(state_->register_app(app), wik::testing::IsOk());
  }
  acme_community_ = state_->communities().at(0);
  acme_people_ = state_->users(acme_community_.id);
  acme_group_ = state_->groups(acme_community_.id).at(0);
  auto globex = state_->create_community("Globex");
  ASSERT_TRUE(globex.ok());
  globex_community_ = *globex;
  User admin;
  admin.name = "Gina Globex";
  admin.email = "gina@globex.example";
  admin.locale = "en_GB";
  admin.system_admin = true;
  auto created = state_->create_user(globex_community_.id, admin);
  ASSERT_TRUE(created.ok());
  globex_admin_ = *created;
  auto group = state_->create_group(globex_community_.id, "Globex Team", {globex_admin_.id});
  ASSERT_TRUE(group.ok());
  globex_group_ = *group;

  delivery_work_.emplace(delivery_io_.get_executor());
  delivery_thread_ = std::thread([this] { delivery_io_.run(); });
  delivery_ = std::make_unique<WebhookDelivery>(delivery_io_, *state_);
  limits_ = std::make_unique<RateLimits>(clock_);
  api_ = std::make_unique<GraphApi>(*state_, *delivery_, faults_, *limits_,
                                    GraphApiOptions{.graph_url = "", .web_url = "http://web.test"});
  http::ServerOptions options;
  options.port = 0;
  options.io_threads = 2;
  options.access_log = false;
  options.builtin_routes = false;
  server_ = std::make_unique<http::Server>(options);
  api_->add_routes(server_->router());
  ASSERT_THAT(server_->start(), wik::testing::IsOk());
  http::ClientOptions client_options;
  client_options.allow_plain_http = true;
  client_options.total_timeout = 15s;
  client_options.max_idle_connections_per_host = 0;
  auto client = http::Client::create(client_options);
  ASSERT_TRUE(client.ok());
  client_ = std::move(client).value();

  acme_ = {install(kAppId, kSecret, acme_people_.at(0).id, every_permission), std::string(kSecret)};
  limited_ = {install(kOtherAppId, kOtherSecret, acme_people_.at(0).id, {"bot_mention"}), std::string(kOtherSecret)};
  globex_ = {install(kAppId, kSecret, globex_admin_.id, every_permission), std::string(kSecret)};
  app_token_ = {std::string(kAppId) + "|" + std::string(kSecret), {}};
}

void GraphFixture::TearDown() {
  if (server_) server_->stop(1s);
  client_.reset();
  if (delivery_) delivery_->stop();
  delivery_work_.reset();
  delivery_io_.stop();
  if (delivery_thread_.joinable()) delivery_thread_.join();
}

std::string GraphFixture::base_url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

Answer GraphFixture::send(verb method, const std::string& target, std::string body, std::string content_type,
                          std::vector<std::pair<std::string, std::string>> headers) {
  http::ClientRequest request;
  request.method = method;
  request.url = base_url() + target;
  request.body = std::move(body);
  if (!content_type.empty()) request.headers.set(boost::beast::http::field::content_type, content_type);
  for (const auto& [name, value] : headers) request.headers.set(name, value);
  auto future = asio::co_spawn(client_io_, spawnable(client_.get(), std::move(request)), asio::use_future);
  client_io_.restart();
  client_io_.run_for(15s);
  Answer answer;
  if (future.wait_for(0s) != std::future_status::ready) return answer;
  auto result = future.get();
  if (!result || !result->ok()) return answer;
  answer.answered = true;
  answer.status = (*result)->status;
  answer.headers = (*result)->headers;
  answer.raw = (*result)->body;
  boost::system::error_code ec;
  answer.body = json::parse(answer.raw, ec);
  return answer;
}

std::string GraphFixture::signed_query(const Credentials& credentials, std::int64_t skew_s) const {
  const auto proof = core::make_appsecret_proof(Secret(credentials.secret), AccessToken(credentials.token),
                                                clock_.unix_seconds() + skew_s);
  return "access_token=" + url_encode(credentials.token) + "&appsecret_proof=" + proof.proof +
         "&appsecret_time=" + proof.time;
}

Answer GraphFixture::get(const std::string& path, const Credentials& credentials) {
  const char separator = path.find('?') == std::string::npos ? '?' : '&';
  return send(verb::get, path + separator + signed_query(credentials));
}

Answer GraphFixture::post_json(const std::string& path, const json::value& body, const Credentials& credentials) {
  return send(verb::post, path + "?" + signed_query(credentials), json::serialize(body), "application/json");
}

Answer GraphFixture::delete_json(const std::string& path, const json::value& body) {
  return send(verb::delete_, path + "?" + signed_query(acme_), json::serialize(body), "application/json");
}

std::string GraphFixture::install(std::string_view app_id, std::string_view secret, const Id& admin_id,
                                  std::vector<std::string> permissions) {
  auto code = state_->issue_code(std::string(app_id), admin_id, std::string(kRedirect), std::move(permissions));
  EXPECT_TRUE(code.ok());
  if (!code.ok()) return {};
  const Answer answer = send(verb::get, "/oauth/access_token?client_id=" + std::string(app_id) + "&client_secret=" +
                                            std::string(secret) + "&redirect_uri=" + url_encode(kRedirect) +
                                            "&code=" + url_encode(code->code));
  EXPECT_EQ(answer.status, 200u) << answer.raw;
  if (answer.status != 200) return {};
  return std::string(answer.body.at("access_token").as_string());
}

Id GraphFixture::scoped(std::size_t person, std::string_view app_id) {
  return state_->scoped_user_id(std::string(app_id), acme_people_.at(person).id);
}

}  // namespace wik::emulator::testing
