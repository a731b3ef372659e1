// ScriptedGraph: a fake Graph host on loopback for tests of code that calls the Graph API.
//
// It answers every request (GET, POST, DELETE on paths of one to three segments) with the next
// scripted answer, or 200 {} when none is left, and records what it received (method, raw target,
// Authorization header, body), so a test can assert both what its code sent and how it handled
// each answer. Binds port 0; one I/O thread; thread-safe. Header-only: the including test links
// wik_http.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http/server/server.h"
#include "support/result_matchers.h"

namespace wik::testing {

struct Recorded {
  std::string method;
  std::string target;
  std::string authorization;
  std::string body;
};

struct Scripted {
  boost::beast::http::status code = boost::beast::http::status::ok;
  std::string body = "{}";
  std::map<std::string, std::string> headers;
  std::chrono::milliseconds delay{0};
};

class ScriptedGraph {
 public:
  ScriptedGraph() {
    using boost::beast::http::verb;
    http::ServerOptions options;
    options.port = 0;
    options.io_threads = 1;
    options.access_log = false;
    server_ = std::make_unique<http::Server>(options);
    for (const char* pattern : {"/{a}", "/{a}/{b}", "/{a}/{b}/{c}"}) {
      for (verb method : {verb::get, verb::post, verb::delete_}) {
        server_->router().add(method, pattern, [this](http::Request& request) { return answer(this, request); });
      }
    }
    EXPECT_THAT(server_->start(), IsOk());
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  void script(Scripted answer) {
    const std::lock_guard lock(mutex_);
    script_.push_back(std::move(answer));
  }
  std::vector<Recorded> received() const {
    const std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  static boost::asio::awaitable<http::Response> answer(ScriptedGraph* self, http::Request& request) {
    namespace asio = boost::asio;
    Scripted next;
    {
      const std::lock_guard lock(self->mutex_);
      self->received_.push_back({std::string(request.method_name()), std::string(request.raw_target()),
                                 std::string(request.header("Authorization").value_or("")), request.body()});
      if (!self->script_.empty()) {
        next = std::move(self->script_.front());
        self->script_.pop_front();
      }
    }
    if (next.delay.count() > 0) {
      asio::steady_timer timer(co_await asio::this_coro::executor, next.delay);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));  // cancelled at teardown: answer anyway
    }
    http::Response response(next.code);
    response.set_header(boost::beast::http::field::content_type, "application/json");
    for (const auto& [name, value] : next.headers) response.message().set(name, value);
    response.message().body() = next.body;
    co_return response;
  }

  mutable std::mutex mutex_;
  std::deque<Scripted> script_;
  std::vector<Recorded> received_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace wik::testing
