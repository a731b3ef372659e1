// Asio and Beast I/O types for wik_http (private to src/http).
//
// Every I/O object here has as_tuple(use_awaitable) as its default completion token (the Boost 1.81
// executor_with_default pattern, STYLE.md practice 4), so network failures are values:
//   auto [ec, n] = co_await stream.async_read_some(buffer);
// and only real bugs become exceptions.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace wik::http::io {

namespace asio = boost::asio;
namespace beast = boost::beast;

using Token = asio::as_tuple_t<asio::use_awaitable_t<>>;
using Executor = Token::executor_with_default<asio::any_io_executor>;
using Acceptor = asio::ip::tcp::acceptor::rebind_executor<Executor>::other;
using Socket = asio::ip::tcp::socket::rebind_executor<Executor>::other;
using Resolver = asio::ip::tcp::resolver::rebind_executor<Executor>::other;
using Timer = asio::steady_timer::rebind_executor<Executor>::other;
using TcpStream = beast::tcp_stream::rebind_executor<Executor>::other;

}  // namespace wik::http::io
