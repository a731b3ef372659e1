#include "http/server/shutdown.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <csignal>

namespace wik::http {

struct ShutdownOnSignal::Signals {
  boost::asio::io_context io_context{1};
  boost::asio::signal_set set{io_context, SIGTERM, SIGINT};
};

ShutdownOnSignal::ShutdownOnSignal(Server& server, std::optional<std::chrono::milliseconds> grace)
    : server_(server), grace_(grace), signals_(std::make_unique<Signals>()) {}

ShutdownOnSignal::~ShutdownOnSignal() = default;

int ShutdownOnSignal::wait() {
  int received = 0;
  signals_->set.async_wait([&received](const boost::system::error_code& ec, int number) {
    if (!ec) received = number;
  });
  signals_->io_context.run();
  signals_->io_context.restart();
  spdlog::info("http: signal {} received; draining", received);
  server_.stop(grace_);
  return received;
}

}  // namespace wik::http
