// End-to-end latency of one chat message (issue 7; docs/PERFORMANCE.md, "Webhooks"): a person
// writes to the bot in the emulator, the emulator delivers the signed webhook, the App stores it,
// dispatches it to a handler that replies, and the reply reaches the emulator through the Send
// API. Measured from the send to the moment the emulator has recorded the reply, one message at a
// time (light load), after a warm-up.
//
//   wik_end_to_end_bench [--messages N] [--warmup N] [--pause-ms N] [--engine sqlite|postgres]
//                        [--mode emulator|direct|both] [--flush-tick-ms N]
//
// Two modes:
//  - emulator: the person's message goes through the emulator's control API
//    (POST /_emulator/users/{id}/messages), exactly as tests and the browser UI send one. The
//    emulator's webhook batching wait (DeliveryOptions::flush_tick, 20 ms by default) is set by
//    --flush-tick-ms (default 0 here, so the figure is the kit's, not the fake platform's wait).
//  - direct: the person's message is recorded in the emulator's state and this program POSTs the
//    same delivery the emulator would (built by its own builders, signed with the app secret)
//    to the App at once; it also reports when the App acknowledged the delivery (stored durably),
//    so the total splits into ingest, and dispatch + handler + outbox + Send API.
// The direct mode also times GET /healthz through the same client, the floor under its figures.
// Everything runs in this process on loopback; the App keeps its store in a temporary SQLite file
// (WAL, synchronous=FULL) or a throw-away PostgreSQL cluster with fsync on. Prints percentiles in ms.
#include <wik/app.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "app/database.h"
#include "core/clock.h"
#include "core/key_ring.h"
#include "emulator/emulator.h"
#include "http/client/client.h"
#include "realistic_webhook.h"
#include "store/store.h"
#include "support/postgres_cluster.h"
#include "support/run_coroutine.h"
#include "support/temp_dir.h"

namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using boost::beast::http::verb;

constexpr const char* kAppId = "1111222233334444";
constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";
constexpr const char* kVerifyToken = "bench-verify-token";
constexpr std::size_t kMessagesPerPerson = 50;  // keeps each thread short, so polling it stays cheap
constexpr auto kPoll = std::chrono::microseconds(50);
constexpr auto kReplyLimit = std::chrono::seconds(10);

struct Options {
  int messages = 2000;
  int warmup = 50;
  int pause_ms = 2;
  int flush_tick_ms = 0;
  wik::StoreEngine engine = wik::StoreEngine::kSqlite;
  bool emulator_mode = true;
  bool direct_mode = true;
};

boost::asio::awaitable<wik::Result<void>> echo(wik::Context& context, const wik::Message& message) {
  const wik::Reply reply = wik::Reply::text("You said: " + message.text);
  co_return co_await context.reply(reply);
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "end_to_end_bench: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T need(wik::Result<T> result, const std::string& what) {
  if (!result.ok()) die(what + ": " + result.error().reason() + " " + result.error().detail());
  return std::move(*result);
}

void need(const wik::Result<void>& result, const std::string& what) {
  if (!result.ok()) die(what + ": " + result.error().reason() + " " + result.error().detail());
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double percentile(std::vector<double> samples, double p) {
  std::sort(samples.begin(), samples.end());
  return samples[static_cast<std::size_t>(p * static_cast<double>(samples.size() - 1))];
}

void report(std::string_view name, const std::vector<double>& samples) {
  std::printf("%-38s n=%zu  p50 %7.2f  p90 %7.2f  p99 %7.2f  max %7.2f ms\n", std::string(name).c_str(),
              samples.size(), percentile(samples, 0.50), percentile(samples, 0.90), percentile(samples, 0.99),
              percentile(samples, 1.0));
}

// A person of the seed community and their 1:1 thread with the bot.
struct Person {
  std::string platform_id;
  std::string scoped_id;
  std::string thread_id;
};

class Bench {
 public:
  explicit Bench(const Options& options) : options_(options) {}

  void start() {
    emulator_ = need(wik::emulator::Emulator::start(
                         {.graph_port = 0,
                          .web_port = 0,
                          .control_api = true,
                          .delivery = {.flush_tick = std::chrono::milliseconds(options_.flush_tick_ms)}}),
                     "emulator");
    http_ = need(wik::http::Client::create({.allow_plain_http = true}), "http client");
    wik::Config config;
    config.app.id = kAppId;
    config.app.secret = wik::Secret(kSecret);
    config.app.verify_token = wik::Secret(kVerifyToken);
    config.app.graph_url = emulator_->graph_url();
    config.app.workplace_url = emulator_->web_url();
    config.app.redirect_url = "http://127.0.0.1:9/workplace/install";
    config.server.port = 0;
    config.keys.ring = wik::core::KeyRing::generate("k1").serialize();
    config.log.level = wik::LogLevel::kWarn;
    // The pacing holds a conversation to one reply per 500 ms after a burst of 3, and a community
    // to 300 a minute (docs/webhooks.md, "Pacing"): off here, where one person sends thousands of
    // messages back to back to time the path, not the pacing.
    config.bot.thread_spacing = std::chrono::milliseconds(0);
    config.bot.community_budget = 1'000'000;
    config.store.engine = options_.engine;
    if (options_.engine == wik::StoreEngine::kPostgres) {
      cluster_ = need(wik::testing::PostgresCluster::start({.fsync = true}), "PostgreSQL");
      config.store.postgres_url = wik::Secret(need(cluster_->create_database(), "PostgreSQL database"));
    } else {
      config.store.sqlite_path = dir_.path() / "wik.db";
    }
    app_ = std::make_unique<wik::App>(config);
    app_->on_message(echo);
    need(app_->start(), "app");
    base_ = "http://127.0.0.1:" + std::to_string(app_->port());

    auto& state = emulator_->state();
    need(state.register_app({.id = kAppId,
                             .secret = kSecret,
                             .name = "Echo",
                             .publisher = "Bench Ltd",
                             .redirect_url = base_ + "/workplace/install",
                             .deauthorize_url = base_ + "/workplace/deauthorize",
                             .permissions = {"message"}}),
         "register app");
    community_id_ = state.communities().front().id;
    std::string admin_id;
    for (const auto& user : state.users(community_id_)) {
      if (user.system_admin) admin_id = user.id;
    }
    install_ = need(state.install_directly(kAppId, admin_id), "install");
    record_install(config);
    state.subscribe(kAppId, {.object = "page",
                             .callback_url = base_ + "/workplace/webhook",
                             .verify_token = kVerifyToken,
                             .fields = {"messages"}});
  }

  void stop() {
    if (app_) app_->stop();
    app_.reset();
    if (emulator_) emulator_->stop();
  }

  // Sends `count` messages through the emulator's control API; returns send → reply latencies.
  std::vector<double> run_emulator(int count) {
    std::vector<double> total;
    for (int i = 0; i < count; ++i) {
      const Person& person = next_person();
      const std::string text = "emulator message " + std::to_string(sent_);
      const json::object body{{"thread_id", person.thread_id}, {"text", text}};
      const auto start = Clock::now();
      const auto sent = post(emulator_->web_url() + "/_emulator/users/" + person.platform_id + "/messages",
                             json::serialize(body), {});
      if (sent.status != 200) die("control API answered " + std::to_string(sent.status) + ": " + sent.body);
      wait_for_reply(person, text);
      total.push_back(ms(Clock::now() - start));
      pause();
    }
    return total;
  }

  // Records each message in the emulator and POSTs its delivery to the App at once; returns
  // send → reply latencies and, in `acks`, send → 200 from the App.
  std::vector<double> run_direct(int count, std::vector<double>& acks) {
    std::vector<double> total;
    auto& state = emulator_->state();
    for (int i = 0; i < count; ++i) {
      const Person& person = next_person();
      const std::string text = "direct message " + std::to_string(sent_);
      const auto start = Clock::now();
      const json::value typed = json::object{{"text", text}};
      const auto message = need(state.add_message(person.thread_id, person.platform_id, false, typed), "add message");
      const std::int64_t now_ms = state.clock().now().time_since_epoch() / std::chrono::milliseconds(1);
      const std::string body = wik::bench::message_delivery(
          {.community_id = community_id_, .page_id = install_.page_id, .sender_id = person.scoped_id}, message.mid,
          text, now_ms);
      const auto signatures = wik::emulator::sign_webhook_body(kSecret, body);
      boost::beast::http::fields headers;
      headers.set("X-Hub-Signature", signatures.sha1);
      headers.set("X-Hub-Signature-256", signatures.sha256);
      const auto answered = post(base_ + "/workplace/webhook", body, std::move(headers));
      if (answered.status != 200) die("the App answered " + std::to_string(answered.status) + ": " + answered.body);
      acks.push_back(ms(Clock::now() - start));
      wait_for_reply(person, text);
      total.push_back(ms(Clock::now() - start));
      pause();
    }
    return total;
  }

  // Returns the round-trip times of GET /healthz on the App through this program's HTTP client:
  // the floor under the acknowledgement times above.
  std::vector<double> run_healthz(int count) {
    std::vector<double> total;
    for (int i = 0; i < count; ++i) {
      wik::http::ClientRequest request{.method = verb::get, .url = base_ + "/healthz", .headers = {}, .body = {}};
      const auto start = Clock::now();
      const auto answered = need(wik::testing::run_coroutine(io_, http_->request(std::move(request))), "healthz");
      if (answered.status != 200) die("healthz answered " + std::to_string(answered.status));
      total.push_back(ms(Clock::now() - start));
      pause();
    }
    return total;
  }

 private:
  void record_install(const wik::Config& config) {
    auto store = need(wik::store::Store::open(need(wik::app::open_database(config), "database"),
                                              wik::core::KeyRing::parse(config.keys.ring->expose()).value(), clock_),
                      "store");
    auto scope = need(store->community(install_.community_id), "scope");
    need(scope.put_installation({.community_name = "Acme Corp",
                                 .access_token = wik::AccessToken(install_.access_token),
                                 .permissions = install_.permissions,
                                 .installed_by = std::nullopt}),
         "record install");
  }

  // Returns the person to write next: a new one every kMessagesPerPerson messages.
  const Person& next_person() {
    if (sent_++ % kMessagesPerPerson == 0) {
      auto& state = emulator_->state();
      const std::string n = std::to_string(people_.size() + 1);
      wik::emulator::User fields;
      fields.name = "Bench Person " + n;
      fields.email = "person" + n + "@acme.example";
      fields.locale = "en_US";
      const auto user = need(state.create_user(community_id_, fields), "create user");
      people_.push_back({.platform_id = user.id,
                         .scoped_id = state.scoped_user_id(kAppId, user.id),
                         .thread_id = state.direct_thread(user.id, install_.page_id).id});
    }
    return people_.back();
  }

  // Waits until the emulator recorded the bot's answer to `text` in the person's thread.
  void wait_for_reply(const Person& person, const std::string& text) {
    const std::string expected = "You said: " + text;
    const auto deadline = Clock::now() + kReplyLimit;
    while (Clock::now() < deadline) {
      const auto messages = emulator_->state().messages(person.thread_id);
      if (!messages.empty() && messages.back().from_bot) {
        const auto* said = messages.back().message.as_object().if_contains("text");
        if (said != nullptr && said->is_string() && said->as_string() == expected) return;
      }
      std::this_thread::sleep_for(kPoll);
    }
    die("no reply to \"" + text + "\" within 10 s");
  }

  wik::http::ClientResponse post(const std::string& url, std::string body, boost::beast::http::fields headers) {
    wik::http::ClientRequest request{.method = verb::post, .url = url, .headers = std::move(headers),
                                     .body = std::move(body)};
    request.headers.set(boost::beast::http::field::content_type, "application/json");
    return need(wik::testing::run_coroutine(io_, http_->request(std::move(request))), "POST " + url);
  }

  void pause() const { std::this_thread::sleep_for(std::chrono::milliseconds(options_.pause_ms)); }

  const Options options_;
  wik::testing::TempDir dir_;
  wik::core::SystemClock clock_;
  std::unique_ptr<wik::testing::PostgresCluster> cluster_;
  std::unique_ptr<wik::emulator::Emulator> emulator_;
  std::unique_ptr<wik::App> app_;
  boost::asio::io_context io_;
  std::unique_ptr<wik::http::Client> http_;  // after io_: destroyed before it
  std::string base_;
  std::string community_id_;
  wik::emulator::Install install_;
  std::vector<Person> people_;
  std::size_t sent_ = 0;
};

int usage(const char* program) {
  std::fprintf(stderr,
               "usage: %s [--messages N] [--warmup N] [--pause-ms N] [--engine sqlite|postgres] "
               "[--mode emulator|direct|both] [--flush-tick-ms N]\n",
               program);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--messages" && has_value) {
      options.messages = std::stoi(argv[++i]);
    } else if (arg == "--warmup" && has_value) {
      options.warmup = std::stoi(argv[++i]);
    } else if (arg == "--pause-ms" && has_value) {
      options.pause_ms = std::stoi(argv[++i]);
    } else if (arg == "--flush-tick-ms" && has_value) {
      options.flush_tick_ms = std::stoi(argv[++i]);
    } else if (arg == "--engine" && has_value) {
      const std::string_view engine = argv[++i];
      if (engine != "sqlite" && engine != "postgres") return usage(argv[0]);
      options.engine = engine == "sqlite" ? wik::StoreEngine::kSqlite : wik::StoreEngine::kPostgres;
    } else if (arg == "--mode" && has_value) {
      const std::string_view mode = argv[++i];
      if (mode != "emulator" && mode != "direct" && mode != "both") return usage(argv[0]);
      options.emulator_mode = mode != "direct";
      options.direct_mode = mode != "emulator";
    } else {
      return usage(argv[0]);
    }
  }
  if (options.messages < 1 || options.warmup < 0 || options.pause_ms < 0 || options.flush_tick_ms < 0) {
    return usage(argv[0]);
  }
  spdlog::set_level(spdlog::level::warn);

  Bench bench(options);
  bench.start();
  std::printf("end to end: %d messages one at a time (%d ms apart) after %d warm-up, store %s, emulator flush tick "
              "%d ms\n",
              options.messages, options.pause_ms, options.warmup,
              options.engine == wik::StoreEngine::kSqlite ? "SQLite" : "PostgreSQL", options.flush_tick_ms);
  if (options.direct_mode) {
    bench.run_healthz(options.warmup);
    report("GET /healthz round trip", bench.run_healthz(std::min(options.messages, 500)));
    std::vector<double> acks;
    bench.run_direct(options.warmup, acks);
    acks.clear();
    const auto total = bench.run_direct(options.messages, acks);
    std::vector<double> dispatch;
    for (std::size_t i = 0; i < total.size(); ++i) dispatch.push_back(total[i] - acks[i]);
    report("direct: send -> reply recorded", total);
    report("direct: send -> webhook 200 (stored)", acks);
    report("direct: 200 -> reply recorded", dispatch);
  }
  if (options.emulator_mode) {
    bench.run_emulator(options.warmup);
    report("emulator: send -> reply recorded", bench.run_emulator(options.messages));
  }
  std::fflush(stdout);
  bench.stop();
  return 0;
}
