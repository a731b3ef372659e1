#include "delivery_fixture.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <spdlog/spdlog.h>

#include <cctype>
#include <future>

#include "support/result_matchers.h"

namespace wik::emulator::testing {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using wik::testing::IsOk;

namespace {

http::ServerOptions app_server_options() {
  http::ServerOptions options;
  options.port = 0;
  options.io_threads = 1;
  options.access_log = false;
  options.shutdown_grace = 0ms;
  return options;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// co_spawn needs a default-constructible result; Result<T> deliberately is not.
template <class T>
asio::awaitable<std::optional<T>> spawnable(asio::awaitable<T> awaitable) {
  co_return co_await std::move(awaitable);
}

template <class T>
T run_on(asio::io_context& io, asio::awaitable<T> awaitable) {
  auto future = asio::co_spawn(io, spawnable(std::move(awaitable)), asio::use_future);
  if (future.wait_for(10s) != std::future_status::ready) return Error(ErrorCode::kInternal, "test: hung");
  auto result = future.get();
  if (!result) return Error(ErrorCode::kInternal, "test: no result");
  return std::move(*result);
}

}  // namespace

RecordingApp::RecordingApp() : server_(app_server_options()) {
  const auto handler = [this](http::Request& request) { return handle(*this, request); };
  server_.router().post("/hook", handler).get("/hook", handler).post("/deauth", handler).post("/link", handler);
  if (auto started = server_.start(); !started.ok()) ADD_FAILURE() << "the app server did not start";
}

RecordingApp::~RecordingApp() { server_.stop(0ms); }

std::string RecordingApp::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
}

void RecordingApp::answer_next(std::vector<unsigned> statuses) {
  const std::lock_guard lock(mutex_);
  statuses_.assign(statuses.begin(), statuses.end());
}

void RecordingApp::delay_next(std::size_t count, std::chrono::milliseconds delay) {
  const std::lock_guard lock(mutex_);
  delayed_count_ = count;
  delay_ = delay;
}

void RecordingApp::set_link_answer(std::string body) {
  const std::lock_guard lock(mutex_);
  link_answer_ = std::move(body);
}

asio::awaitable<http::Response> RecordingApp::handle(RecordingApp& app, http::Request& request) {
  ReceivedRequest received{.method = std::string(request.method_name()), .path = request.path(),
                           .target = std::string(request.raw_target()), .body = request.body()};
  for (const auto& [name, value] : request.query_params()) received.query.emplace(name, value);
  for (const auto& field : request.message()) received.headers[lower(field.name_string())] = std::string(field.value());

  std::chrono::milliseconds delay{0};
  unsigned status = 200;
  std::string link_answer;
  {
    const std::lock_guard lock(app.mutex_);
    if (app.delayed_count_ > 0) {
      --app.delayed_count_;
      delay = app.delay_;
    }
    if (request.path() == "/hook" && request.method() == boost::beast::http::verb::post && !app.statuses_.empty()) {
      status = app.statuses_.front();
      app.statuses_.pop_front();
    }
    link_answer = app.link_answer_;
    app.received_.push_back(received);
  }
  app.arrived_.notify_all();

  const bool verification = request.method() == boost::beast::http::verb::get;
  if (verification && app.verification_answer_ == VerificationAnswer::kSlow) delay = 3s;
  if (delay.count() > 0) {
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (verification) {
    switch (app.verification_answer_) {
      case VerificationAnswer::kWrongBody: co_return http::Response::text("not-the-challenge");
      case VerificationAnswer::kForbidden:
        co_return http::Response::text("forbidden", boost::beast::http::status::forbidden);
      default: co_return http::Response::text(std::string(request.query("hub.challenge").value_or("")));
    }
  }
  if (request.path() == "/link") {
    http::Response response;
    response.set_header(boost::beast::http::field::content_type, "application/json");
    response.set_body(link_answer);
    co_return response;
  }
  co_return http::Response::text("", static_cast<boost::beast::http::status>(status));
}

std::vector<ReceivedRequest> RecordingApp::requests(const std::optional<std::string>& path) const {
  const std::lock_guard lock(mutex_);
  std::vector<ReceivedRequest> found;
  for (const auto& request : received_) {
    if (!path || request.path == *path) found.push_back(request);
  }
  return found;
}

::testing::AssertionResult RecordingApp::wait_until(
    const std::function<bool(const std::vector<ReceivedRequest>&)>& predicate, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  if (arrived_.wait_for(lock, timeout, [&] { return predicate(received_); })) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "the expected requests did not arrive in " << timeout.count() << " ms ("
                                       << received_.size() << " requests arrived)";
}

::testing::AssertionResult RecordingApp::wait_for_requests(const std::string& path, std::size_t count,
                                                           std::chrono::milliseconds timeout) const {
  return wait_until(
      [&](const std::vector<ReceivedRequest>& received) {
        return static_cast<std::size_t>(std::count_if(received.begin(), received.end(),
                                                      [&](const ReceivedRequest& r) { return r.path == path; })) >= count;
      },
      timeout);
}

DeliveryFixture::DeliveryFixture() : work_(asio::make_work_guard(io_)) {
  spdlog::set_level(spdlog::level::warn);
  auto state = PlatformState::open({}, clock_);
  if (!state.ok()) {
    ADD_FAILURE() << "PlatformState::open failed: " << state.error().reason();
    return;
  }
  state_ = std::move(state).value();
  io_thread_ = std::thread([this] { io_.run(); });
  make_delivery({});
  auto community = state_->create_community("Acme Test");
  if (!community.ok()) {
    ADD_FAILURE() << "create_community: " << community.error().reason();
    return;
  }
  community_ = *community;
  auto admin = state_->create_user(community_.id, User{.name = "Ada Admin", .email = "ada.admin@delivery.test",
                                                        .locale = "en_US", .system_admin = true});
  if (!admin.ok()) {
    ADD_FAILURE() << "create_user: " << admin.error().reason();
    return;
  }
  admin_ = *admin;
}

DeliveryFixture::~DeliveryFixture() {
  delivery_.reset();
  work_.reset();
  io_.stop();
  if (io_thread_.joinable()) io_thread_.join();
}

void DeliveryFixture::make_delivery(DeliveryOptions options) {
  delivery_.reset();
  delivery_ = std::make_unique<WebhookDelivery>(io_, *state_, options);
}

Id DeliveryFixture::register_app(const std::string& id, const std::string& name) {
  App app{.id = id, .secret = kSecret, .name = name, .redirect_url = app_.url("/install"),
          .deauthorize_url = app_.url("/deauth"),
          .permissions = {"message", "bot_mention", "read_group", "link_unfurling"}};
  EXPECT_THAT(state_->register_app(std::move(app)), IsOk());
  return id;
}

void DeliveryFixture::subscribe(const Id& app_id, const std::string& object, std::set<std::string> fields) {
  state_->subscribe(app_id, Subscription{.object = object,
                                         .callback_url = app_.url(object == "link" ? "/link" : "/hook") + "?app=" + app_id,
                                         .verify_token = "verify-me",
                                         .fields = std::move(fields)});
}

Result<void> DeliveryFixture::verify(const Id& app_id, const Subscription& subscription) {
  return run_on(io_, delivery_->verify(app_id, subscription));
}

Result<json::value> DeliveryFixture::request_link(const Id& app_id, const std::string& field, json::value value) {
  return run_on(io_, delivery_->request_link(app_id, field, std::move(value)));
}

::testing::AssertionResult DeliveryFixture::wait_for_log(const std::function<bool(const DeliveryAttempt&)>& predicate,
                                                         std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto log = delivery_->log(std::nullopt);
    if (std::any_of(log.begin(), log.end(), predicate)) return ::testing::AssertionSuccess();
    if (std::chrono::steady_clock::now() >= deadline) {
      return ::testing::AssertionFailure() << "no matching delivery attempt within " << timeout.count() << " ms ("
                                           << log.size() << " attempts logged)";
    }
    std::this_thread::sleep_for(2ms);
  }
}

std::string DeliveryFixture::refused_url() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  acceptor.close();
  return "http://127.0.0.1:" + std::to_string(port) + "/hook";
}

json::value parse_body(const ReceivedRequest& request) {
  boost::system::error_code ec;
  json::value value = json::parse(request.body, ec);
  if (ec) ADD_FAILURE() << "not JSON: " << request.body;
  return value;
}

std::vector<json::value> received_entries(const RecordingApp& app, const std::optional<Id>& app_id) {
  return entries_in(app.requests(), app_id);
}

std::vector<json::value> entries_in(const std::vector<ReceivedRequest>& requests, const std::optional<Id>& app_id) {
  std::vector<json::value> entries;
  for (const auto& request : requests) {
    if (request.path != "/hook" || request.method != "POST") continue;
    if (app_id && (!request.query.contains("app") || request.query.at("app") != *app_id)) continue;
    const json::value body = parse_body(request);
    if (!body.is_object() || !body.as_object().contains("entry")) continue;
    for (const auto& entry : body.at("entry").as_array()) entries.push_back(entry);
  }
  return entries;
}

}  // namespace wik::emulator::testing
