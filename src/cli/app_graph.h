// AppGraph: the Graph client an operator command calls the platform with, as the app (app.id and
// app.secret) or as one of its installs, and the way to run such a call to its end from a plain
// function. Shared by `wik api`, `wik subscriptions` and `wik demo`.
#pragma once

#include <wik/config.h>
#include <wik/result.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <memory>
#include <optional>

#include "core/clock.h"
#include "core/secure_random.h"
#include "graph/graph_client.h"
#include "http/client/client.h"

namespace wik::cli {

// The io_context is declared first, so it is destroyed after the clients whose connections
// belong to it.
struct AppGraph {
  boost::asio::io_context io;
  std::unique_ptr<http::Client> http;
  core::SystemClock clock;
  core::SecureRandomSource random;
  std::unique_ptr<graph::GraphClient> graph;
};

// Returns the Graph client for `config`'s app: kConfig when app.id or app.secret is missing (or
// the TLS setup fails); plain http only to a loopback Graph host.
Result<std::unique_ptr<AppGraph>> connect_app_graph(const Config& config);

template <class T>
boost::asio::awaitable<void> keep_value(boost::asio::awaitable<T> call, std::optional<T>& out) {
  out.emplace(co_await std::move(call));
}

// Runs `call` to its end on `app_graph`'s io_context and returns its value.
template <class T>
T run_to_end(AppGraph& app_graph, boost::asio::awaitable<T> call) {
  std::optional<T> value;
  boost::asio::co_spawn(app_graph.io, keep_value(std::move(call), value), [](const std::exception_ptr& failure) {
    if (failure) std::rethrow_exception(failure);
  });
  app_graph.io.run();
  return std::move(*value);
}

}  // namespace wik::cli
