#include "http/server/session.h"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <cctype>
#include <exception>
#include <optional>

#include "core/output_capture.h"
#include "http/server/server_state.h"
#include "http/server/watchdog.h"

namespace wik::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using Clock = std::chrono::steady_clock;
using Parser = beast_http::request_parser<beast_http::string_body>;
using Deadline = Watchdog::Deadline;

// Bytes asked for per read while idle.
constexpr std::size_t kReadChunk = 8 * 1024;
// After an answer that leaves a request body unread, how long and how much the connection keeps
// reading (and discarding) so the client receives the answer instead of a reset.
constexpr std::chrono::milliseconds kLingerTime{500};
constexpr std::size_t kLingerBytes = 256 * 1024;
// The time allowed to write a 503 to a connection refused for max_connections.
constexpr std::chrono::milliseconds kRejectTimeout{1000};
constexpr std::string_view kUnmatchedRoute = "unmatched";

enum class Next {
  kKeepAlive,  // serve the next request
  kClose,      // close now
  kLinger,     // close after discarding what the client is still sending
};

// What one connection's coroutine owns and its helpers borrow.
template <class Stream>
struct Connection {
  ServerState& state;
  Stream& stream;
  Deadline& deadline;
  beast::flat_buffer buffer;
  std::string output;        // the response being written
  std::string peer_address;  // Request::peer_address() of every request on this connection
};

bool is_parse_error(const boost::system::error_code& ec) {
  return ec.category() == beast_http::make_error_code(beast_http::error::bad_method).category() &&
         ec != beast_http::error::end_of_stream && ec != beast_http::error::partial_message;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Returns beast::error::timeout for an operation the watchdog cancelled, else `ec`.
boost::system::error_code timed(const Deadline& deadline, boost::system::error_code ec) {
  if (deadline.expired() && ec == asio::error::operation_aborted) return beast::error::timeout;
  return ec;
}

// What the server knows about the request being answered, for the response, the log and metrics.
struct Exchange {
  std::string method = "-";
  const Route* route = nullptr;
  std::string request_id;
  Clock::time_point started = Clock::now();
  unsigned version = 11;
  bool head = false;
  std::string path;  // the target without its query, kept only for the output capture

  // Returns "METHOD route-pattern path", the label of the response in the output capture.
  std::string capture_label() const {
    return method + " " + std::string(route_label()) + " " + (path.empty() ? "-" : path);
  }

  std::string_view route_label() const { return route != nullptr ? std::string_view(route->pattern) : kUnmatchedRoute; }
};

// Appends the wire form of `message` (status line, fields, body) to `out`. One contiguous buffer
// written with one call costs less than Beast's serializer over a buffer sequence, and the
// connection reuses `out`'s capacity from one response to the next. REQUIRES: prepare_payload()
// was called, so the body is framed by Content-Length.
void serialize(const Response::Message& message, std::string& out) {
  out.clear();
  out += message.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  const unsigned status = message.result_int();
  out += static_cast<char>('0' + status / 100 % 10);
  out += static_cast<char>('0' + status / 10 % 10);
  out += static_cast<char>('0' + status % 10);
  out += ' ';
  const auto reason = message.reason();
  out.append(reason.data(), reason.size());
  out += "\r\n";
  for (const auto& field : message) {
    const auto name = field.name_string();
    const auto value = field.value();
    out.append(name.data(), name.size());
    out += ": ";
    out.append(value.data(), value.size());
    out += "\r\n";
  }
  out += "\r\n";
  out += message.body();
}

// Feeds buffered bytes to `parser` until it needs more input or is done (header or whole message).
boost::system::error_code parse_buffered(Parser& parser, beast::flat_buffer& buffer, bool header_only) {
  const auto done = [&] { return header_only ? parser.is_header_done() : parser.is_done(); };
  while (buffer.size() > 0 && !done()) {
    boost::system::error_code ec;
    const std::size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == beast_http::error::need_more) break;
    if (ec) return ec;
    if (used == 0) break;
  }
  return {};
}

// Reads the request head (or the rest of the message) into `parser` before the armed deadline.
// Returns beast::error::timeout when it passes.
// Callers first try parse_buffered(), which completes most requests without a coroutine frame.
template <class Stream>
asio::awaitable<boost::system::error_code> read_request(Connection<Stream>& connection, Parser& parser,
                                                       bool header_only) {
  if (connection.deadline.expired()) co_return beast::error::timeout;
  boost::system::error_code ec;
  if (header_only) {
    std::tie(ec, std::ignore) = co_await beast_http::async_read_header(connection.stream, connection.buffer, parser);
  } else {
    std::tie(ec, std::ignore) = co_await beast_http::async_read(connection.stream, connection.buffer, parser);
  }
  co_return timed(connection.deadline, ec);
}

// Records `response` for `exchange` in the metrics and access log, then writes it. Returns the
// write error. (Recording first means a client that has its answer also finds it counted.)
template <class Stream>
asio::awaitable<boost::system::error_code> send(Connection<Stream>& connection, Response& response,
                                               const Exchange& exchange, bool keep_alive) {
  ServerState& state = connection.state;
  auto& message = response.message();
  message.version(exchange.version);
  message.keep_alive(keep_alive);
  if (!exchange.request_id.empty()) message.set("X-Request-Id", exchange.request_id);
  message.prepare_payload();
  if (exchange.head) message.body().clear();  // Content-Length stays that of the GET response

  const auto status = static_cast<unsigned>(message.result_int());
  const double seconds = std::chrono::duration<double>(Clock::now() - exchange.started).count();
  state.record(exchange.route, exchange.method, exchange.route_label(), status, seconds);
  if (state.options().access_log) {
    auto* logger = spdlog::default_logger_raw();
    if (logger->should_log(spdlog::level::info)) {
      logger->info("http {} {} {} {:.3f}ms request_id={}", exchange.method, exchange.route_label(), status,
                   seconds * 1000.0, exchange.request_id);
    }
  }

  serialize(message, connection.output);
  if (core::capture::enabled()) {
    core::capture::response(state.options().name, exchange.capture_label(), connection.output);
  }
  connection.deadline.arm(state.options().write_timeout);
  auto [ec, written] = co_await asio::async_write(connection.stream, asio::buffer(connection.output));
  ec = timed(connection.deadline, ec);
  connection.deadline.disarm();
  if (ec) spdlog::debug("http: writing the response failed: {} request_id={}", ec.message(), exchange.request_id);
  co_return ec;
}

// Answers `error` arising at `origin` and says how the connection goes on.
template <class Stream>
asio::awaitable<Next> send_error(Connection<Stream>& connection, const Error& error, ErrorOrigin origin,
                                 const Exchange& exchange, Next next) {
  Response response = error_response(error, origin);
  const auto ec = co_await send(connection, response, exchange, next == Next::kKeepAlive);
  co_return ec ? Next::kClose : next;
}

// Reads, handles and answers one request whose first bytes are in the buffer.
template <class Stream>
asio::awaitable<Next> serve_one(Connection<Stream>& connection, std::size_t served) {
  ServerState& state = connection.state;
  const ServerOptions& options = state.options();
  Exchange exchange;
  connection.deadline.arm_at(exchange.started + options.request_timeout);

  Parser parser;
  parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
  parser.body_limit(boost::none);  // the route decides, once the head is read
  boost::system::error_code head_error = parse_buffered(parser, connection.buffer, true);
  if (!head_error && !parser.is_header_done()) head_error = co_await read_request(connection, parser, true);
  if (const auto ec = head_error) {
    exchange.request_id = state.request_id({});
    if (ec == beast::error::timeout) {
      co_return co_await send_error(connection, Error(ErrorCode::kTimeout, "request not received in time"),
                                    ErrorOrigin::kRequestRead, exchange, Next::kLinger);
    }
    if (ec == beast_http::error::header_limit) {
      co_return co_await send_error(connection, Error(ErrorCode::kTooLarge, "request header fields too large"),
                                    ErrorOrigin::kRequestHead, exchange, Next::kLinger);
    }
    if (is_parse_error(ec)) {
      co_return co_await send_error(connection, Error(ErrorCode::kMalformed, "malformed request"),
                                    ErrorOrigin::kRequestHead, exchange, Next::kLinger);
    }
    co_return Next::kClose;  // the client went away
  }

  const auto& head = parser.get();
  exchange.method = std::string(head.method_string());
  exchange.version = head.version();
  exchange.head = head.method() == beast_http::verb::head;
  if (core::capture::enabled()) {
    const std::string_view raw_target = head.target();
    exchange.path = std::string(raw_target.substr(0, raw_target.find('?')));
  }
  const auto offered_id = head.find("X-Request-Id");
  exchange.request_id =
      state.request_id(offered_id == head.end() ? std::string_view() : std::string_view(offered_id->value()));
  // An answer given before the body was read must close the connection unless there is no body.
  const Next early = parser.is_done() ? Next::kKeepAlive : Next::kLinger;

  auto target = parse_target(head.target());
  if (!target.ok()) {
    co_return co_await send_error(connection, target.error(), ErrorOrigin::kRequestHead, exchange, early);
  }
  RouteMatch match = state.router().match(head.method(), target->segments);
  if (match.route == nullptr) {
    if (match.allowed.empty()) {
      co_return co_await send_error(connection, Error(ErrorCode::kNotFound, "no such resource"), ErrorOrigin::kRouting,
                                    exchange, early);
    }
    Response response = error_response(Error(ErrorCode::kUnsupported, "method not allowed"), ErrorOrigin::kRouting);
    response.set_header(beast_http::field::allow, match.allow_header());
    const auto ec = co_await send(connection, response, exchange, early == Next::kKeepAlive);
    co_return ec ? Next::kClose : early;
  }
  const Route& route = *match.route;
  exchange.route = &route;

  const std::size_t body_limit = route.options.max_body_bytes.value_or(options.max_body_bytes);
  if (const auto length = parser.content_length(); length && *length > body_limit) {
    co_return co_await send_error(connection, Error(ErrorCode::kTooLarge, "request body too large"),
                                  ErrorOrigin::kHandler, exchange, Next::kLinger);
  }
  parser.body_limit(body_limit);
  if (!parser.is_done()) {
    const auto expect = head.find(beast_http::field::expect);
    if (expect != head.end() && iequals(expect->value(), "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      auto [ec, n] =
          co_await asio::async_write(connection.stream, asio::buffer(kContinue.data(), kContinue.size()));
      if (ec) co_return Next::kClose;
    }
    boost::system::error_code body_error = parse_buffered(parser, connection.buffer, false);
    if (!body_error && !parser.is_done()) body_error = co_await read_request(connection, parser, false);
    if (const auto ec = body_error) {
      if (ec == beast::error::timeout) {
        co_return co_await send_error(connection, Error(ErrorCode::kTimeout, "request not received in time"),
                                      ErrorOrigin::kRequestRead, exchange, Next::kLinger);
      }
      if (ec == beast_http::error::body_limit) {
        co_return co_await send_error(connection, Error(ErrorCode::kTooLarge, "request body too large"),
                                      ErrorOrigin::kHandler, exchange, Next::kLinger);
      }
      if (is_parse_error(ec)) {
        co_return co_await send_error(connection, Error(ErrorCode::kMalformed, "malformed request body"),
                                      ErrorOrigin::kRequestHead, exchange, Next::kLinger);
      }
      co_return Next::kClose;
    }
  }
  connection.deadline.disarm();  // handlers bound their own waits

  const bool client_keep_alive = parser.get().keep_alive();
  Request request(parser.release(), std::move(target).value(), route.pattern, std::move(match.params),
                  exchange.request_id, connection.peer_address);
  // An exception escaping a handler is a bug: logged and answered 500.
  std::optional<Result<Response>> outcome;
  try {
    outcome.emplace(co_await route.handler(request));
  } catch (const std::exception& e) {
    spdlog::error("http: handler for {} threw: {} request_id={}", route.pattern, e.what(), exchange.request_id);
  } catch (...) {
    spdlog::error("http: handler for {} threw request_id={}", route.pattern, exchange.request_id);
  }
  Result<Response> result =
      outcome ? std::move(*outcome) : Result<Response>(Error(ErrorCode::kInternal, "internal error"));
  const bool keep_alive = client_keep_alive && !state.draining() &&
                          (options.max_requests_per_connection == 0 || served < options.max_requests_per_connection);
  Response response = result.ok() ? std::move(result).value() : error_response(result.error());
  if (!response.answers()) {
    spdlog::debug("http: {} {} closed without an answer request_id={}", exchange.method, exchange.route_label(),
                  exchange.request_id);
    co_return Next::kClose;
  }
  if (!result.ok() && !result.error().detail().empty()) {
    spdlog::info("http: {} {} answered {}: {} request_id={}", exchange.method, exchange.route_label(),
                 to_string(result.error().code()), result.error().detail(), exchange.request_id);
  }
  const auto ec = co_await send(connection, response, exchange, keep_alive);
  co_return ec || !keep_alive ? Next::kClose : Next::kKeepAlive;
}

// Serves requests until the connection should close; returns how to close it.
template <class Stream>
asio::awaitable<Next> serve_requests(Connection<Stream>& connection) {
  for (std::size_t served = 1;; ++served) {
    // Idle: a draining server (total cancellation) ends the connection here.
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    if (connection.state.draining()) co_return Next::kClose;
    if (connection.buffer.size() == 0) {
      connection.deadline.arm(connection.state.options().idle_timeout);
      auto [ec, n] = co_await connection.stream.async_read_some(connection.buffer.prepare(kReadChunk));
      connection.deadline.disarm();
      if (ec) co_return Next::kClose;
      connection.buffer.commit(n);
    }
    // A request has begun: from here on only terminal cancellation interrupts it.
    co_await asio::this_coro::reset_cancellation_state(asio::enable_terminal_cancellation());
    const Next next = co_await serve_one(connection, served);
    if (next != Next::kKeepAlive) co_return next;
  }
}

// Answers 503 (too many connections).
template <class Stream>
asio::awaitable<Next> refuse(Connection<Stream>& connection) {
  Response response = error_response(Error(ErrorCode::kUnavailable, "too many connections"));
  auto& message = response.message();
  message.keep_alive(false);
  message.prepare_payload();
  connection.deadline.arm(kRejectTimeout);
  auto [ec, n] = co_await beast_http::async_write(connection.stream, message);
  connection.deadline.disarm();
  connection.state.record(nullptr, "-", kUnmatchedRoute, static_cast<unsigned>(message.result_int()), 0.0);
  co_return ec ? Next::kClose : Next::kLinger;
}

// Reads and discards what the client still sends, briefly, so it sees our answer before the close.
asio::awaitable<void> linger(io::Socket& socket, Deadline& deadline) {
  boost::system::error_code ignored;
  socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  deadline.arm(kLingerTime);
  std::array<char, 4096> sink;
  for (std::size_t total = 0; total < kLingerBytes;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink));
    if (ec) break;
    total += n;
  }
  deadline.disarm();
}

// Returns the peer's IP address as text (IPv4-mapped IPv6 as IPv4), or "" when the socket has none.
std::string peer_address_of(const io::Socket& socket) {
  boost::system::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) return {};
  const auto address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

}  // namespace

asio::awaitable<void> serve_connection(ServerState& state, Watchdog& watchdog, io::Socket socket, bool reject) {
  co_await asio::this_coro::throw_if_cancelled(false);
  std::string peer_address = peer_address_of(socket);
  if (auto* tls = state.tls()) {
    using TlsStream = beast::ssl_stream<io::Socket>;
    TlsStream stream(std::move(socket), *tls);
    Deadline deadline(watchdog, beast::get_lowest_layer(stream));
    deadline.arm(reject ? kRejectTimeout : state.options().request_timeout);
    auto [handshake_error] = co_await stream.async_handshake(asio::ssl::stream_base::server);
    deadline.disarm();
    if (handshake_error) co_return;
    Connection<TlsStream> connection{state, stream, deadline, {}, {}, std::move(peer_address)};
    if (reject) {
      co_await refuse(connection);
    } else {
      co_await serve_requests(connection);
    }
    deadline.arm(kLingerTime);
    co_await stream.async_shutdown();
    deadline.disarm();
    co_return;
  }
  Deadline deadline(watchdog, socket);
  Connection<io::Socket> connection{state, socket, deadline, {}, {}, std::move(peer_address)};
  Next next = Next::kClose;
  if (reject) {
    next = co_await refuse(connection);
  } else {
    next = co_await serve_requests(connection);
  }
  if (next == Next::kLinger) {
    co_await linger(socket, deadline);
  } else {
    boost::system::error_code ignored;
    socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  }
}

}  // namespace wik::http
