#include "http/client/client.h"

#include <openssl/ssl.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <variant>
#include <vector>

#include "http/io.h"
#include "http/tls_context.h"
#include "http/url.h"

namespace wik::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;
using TlsStream = beast::ssl_stream<io::TcpStream>;

// Where a URL points, split for connecting and for the request line.
struct Endpoint {
  bool tls = false;
  std::string host;         // for resolving and certificate checks, without IPv6 brackets
  std::string port;         // numeric, defaulted from the scheme
  std::string host_header;  // host[:port] as in the URL
  std::string target;       // encoded path and query
  std::string pool_key;     // scheme://host:port
};

Result<Endpoint> parse_url(std::string_view text, bool allow_plain_http) {
  const auto parsed = parse_absolute_url(text);
  if (!parsed.ok()) return parsed.error();
  const boost::urls::url_view& url = *parsed;
  Endpoint endpoint;
  if (url.scheme_id() == boost::urls::scheme::https) {
    endpoint.tls = true;
  } else if (url.scheme_id() == boost::urls::scheme::http) {
    if (!allow_plain_http) return Error(ErrorCode::kConfig, "plain http is not allowed for " + std::string(url.host()));
  } else {
    return Error(ErrorCode::kInvalidArgument, "URL scheme must be http or https");
  }
  if (url.has_userinfo()) return Error(ErrorCode::kInvalidArgument, "URL must not carry credentials");
  endpoint.host = url.host_address();
  if (endpoint.host.empty()) return Error(ErrorCode::kInvalidArgument, "URL has no host");
  endpoint.port = url.has_port() ? std::string(url.port()) : (endpoint.tls ? "443" : "80");
  if (endpoint.port.empty()) endpoint.port = endpoint.tls ? "443" : "80";
  endpoint.host_header = std::string(url.encoded_host_and_port());
  endpoint.target = url.encoded_path().empty() ? std::string("/") : std::string(url.encoded_path());
  if (url.has_query()) endpoint.target += "?" + std::string(url.encoded_query());
  endpoint.pool_key = std::string(endpoint.tls ? "https://" : "http://") + endpoint.host + ":" + endpoint.port;
  return endpoint;
}

bool is_ip_address(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

Error map_error(const boost::system::error_code& ec, std::string_view doing) {
  if (ec == beast::error::timeout) return Error(ErrorCode::kTimeout, "request timed out " + std::string(doing));
  if (ec == asio::error::operation_aborted) return Error(ErrorCode::kUnavailable, "request cancelled");
  if (ec == beast_http::error::body_limit) return Error(ErrorCode::kTooLarge, "response body too large");
  if (ec == beast_http::error::header_limit) return Error(ErrorCode::kTooLarge, "response headers too large");
  if (ec.category() == beast_http::make_error_code(beast_http::error::bad_version).category() &&
      ec != beast_http::error::end_of_stream && ec != beast_http::error::partial_message) {
    return Error(ErrorCode::kMalformed, "malformed response", ec.message());
  }
  return Error(ErrorCode::kUnavailable, "connection failed " + std::string(doing), ec.message());
}

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool is_idempotent(beast_http::verb method) {
  return method == beast_http::verb::get || method == beast_http::verb::head || method == beast_http::verb::options ||
         method == beast_http::verb::put || method == beast_http::verb::delete_;
}

template <class Stream>
auto& lowest(Stream& stream) {
  return beast::get_lowest_layer(stream);
}

struct Connection {
  std::variant<std::monostate, io::TcpStream, TlsStream> stream;
  beast::flat_buffer buffer;
  Clock::time_point idle_since;

  // True when the peer closed this idle connection, reset it, or sent something on it (a TLS
  // close_notify, stray bytes): an idle HTTP/1.1 connection has nothing to read. Peeks without
  // blocking, so a request is never written to a connection the server already let go.
  bool dropped() {
    const int fd = std::visit(
        [](auto& s) -> int {
          if constexpr (std::is_same_v<std::decay_t<decltype(s)>, std::monostate>) {
            return -1;
          } else {
            return beast::get_lowest_layer(s).socket().native_handle();
          }
        },
        stream);
    if (fd < 0) return true;
    char byte = 0;
    const ssize_t peeked = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return !(peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
  }
};

// The result of one exchange on one connection.
struct Outcome {
  Result<ClientResponse> response;
  bool reusable = false;  // the connection may go back to the pool
  bool stale = false;     // failed before the peer answered anything: safe to retry on a fresh connection
};

// Idle keep-alive connections, by the execution context they were made on and by scheme://host:port.
// A connection is reused only on its own context (its socket belongs to that context's reactor),
// and a context that shuts down takes its idle connections with it (PoolReaper).
struct Pool {
  using Key = std::pair<const asio::execution_context*, std::string>;

  std::mutex mutex;
  std::map<Key, std::vector<std::unique_ptr<Connection>>> idle;      // guarded by mutex
  std::set<const asio::execution_context*> watched;                  // guarded by mutex

  // Closes every idle connection of `context`.
  void drop(const asio::execution_context* context) {
    std::vector<std::unique_ptr<Connection>> closing;
    const std::lock_guard lock(mutex);
    for (auto it = idle.begin(); it != idle.end();) {
      if (it->first.first != context) {
        ++it;
        continue;
      }
      for (auto& connection : it->second) closing.push_back(std::move(connection));
      it = idle.erase(it);
    }
    watched.erase(context);
  }
};

// A service of each execution context a client pooled connections on: when the context shuts down
// (before its socket service is destroyed), the pools drop that context's connections, so a client
// may outlive the io_contexts its requests ran on.
class PoolReaper final : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;
  explicit PoolReaper(asio::execution_context& context) : asio::execution_context::service(context) {}

  void watch(std::weak_ptr<Pool> pool) {
    const std::lock_guard lock(mutex_);
    pools_.push_back(std::move(pool));
  }

 private:
  // asio::execution_context::service
  void shutdown() override {
    std::vector<std::weak_ptr<Pool>> pools;
    {
      const std::lock_guard lock(mutex_);
      pools.swap(pools_);
    }
    for (const auto& weak : pools) {
      if (auto pool = weak.lock()) pool->drop(&context());
    }
  }

  std::mutex mutex_;
  std::vector<std::weak_ptr<Pool>> pools_;
};

}  // namespace

struct Client::Impl {
  ClientOptions options;
  std::unique_ptr<ssl::context> tls_context;
  std::shared_ptr<Pool> pool = std::make_shared<Pool>();

  std::unique_ptr<Connection> take(asio::execution_context& context, const std::string& key) {
    std::vector<std::unique_ptr<Connection>> expired;  // closed after the lock is released
    const std::lock_guard lock(pool->mutex);
    auto it = pool->idle.find({&context, key});
    while (it != pool->idle.end() && !it->second.empty()) {
      std::unique_ptr<Connection> connection = std::move(it->second.back());
      it->second.pop_back();
      if (Clock::now() - connection->idle_since < options.idle_timeout && !connection->dropped()) return connection;
      expired.push_back(std::move(connection));
    }
    return nullptr;
  }

  void give_back(asio::execution_context& context, const std::string& key, std::unique_ptr<Connection> connection) {
    connection->idle_since = Clock::now();
    bool first_on_context = false;
    {
      const std::lock_guard lock(pool->mutex);
      auto& list = pool->idle[{&context, key}];
      if (list.size() >= options.max_idle_connections_per_host) return;
      list.push_back(std::move(connection));
      first_on_context = pool->watched.insert(&context).second;
    }
    if (first_on_context) asio::use_service<PoolReaper>(context).watch(pool);
  }

  asio::awaitable<Result<std::unique_ptr<Connection>>> connect(const Endpoint& endpoint, Clock::time_point deadline) {
    const auto executor = co_await asio::this_coro::executor;
    const auto connect_deadline = std::min(deadline, Clock::now() + options.connect_timeout);
    io::Resolver resolver(executor);
    io::Timer timer(executor);
    timer.expires_at(connect_deadline);
    auto resolved = co_await (resolver.async_resolve(endpoint.host, endpoint.port) || timer.async_wait());
    if (resolved.index() == 1) co_return Error(ErrorCode::kTimeout, "request timed out resolving " + endpoint.host);
    auto [resolve_error, results] = std::get<0>(std::move(resolved));
    if (resolve_error) co_return map_error(resolve_error, "resolving " + endpoint.host);

    auto connection = std::make_unique<Connection>();
    io::TcpStream tcp(executor);
    tcp.expires_at(connect_deadline);
    auto [connect_error, connected] = co_await tcp.async_connect(results);
    if (connect_error) co_return map_error(connect_error, "connecting to " + endpoint.host);
    boost::system::error_code ignored;
    tcp.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    if (!endpoint.tls) {
      tcp.expires_never();
      connection->stream.emplace<io::TcpStream>(std::move(tcp));
      co_return connection;
    }
    auto& tls = connection->stream.emplace<TlsStream>(std::move(tcp), *tls_context);
    // SNI (SSL_set_tlsext_host_name, spelled out: the macro is an old-style cast).
    if (!is_ip_address(endpoint.host) &&
        SSL_ctrl(tls.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(endpoint.host.c_str())) != 1) {
      co_return Error(ErrorCode::kInvalidArgument, "invalid host name for TLS");
    }
    if (options.verify_peer) tls.set_verify_callback(ssl::host_name_verification(endpoint.host));
    auto [handshake_error] = co_await tls.async_handshake(ssl::stream_base::client);
    lowest(tls).expires_never();
    if (handshake_error) {
      if (handshake_error == beast::error::timeout || handshake_error == asio::error::operation_aborted) {
        co_return map_error(handshake_error, "in the TLS handshake");
      }
      co_return Error(ErrorCode::kUnavailable, "TLS handshake with " + endpoint.host + " failed",
                      handshake_error.message());
    }
    co_return connection;
  }

  template <class Stream>
  asio::awaitable<Outcome> send_receive(Stream& stream, beast::flat_buffer& buffer,
                                        beast_http::request<beast_http::string_body>& message,
                                        Clock::time_point deadline) {
    lowest(stream).expires_at(deadline);
    auto [write_error, written] = co_await beast_http::async_write(stream, message);
    if (write_error) {
      const bool stale = write_error != beast::error::timeout && write_error != asio::error::operation_aborted;
      co_return Outcome{map_error(write_error, "writing the request"), false, stale};
    }
    lowest(stream).expires_at(std::min(deadline, Clock::now() + options.read_timeout));
    beast_http::response_parser<beast_http::string_body> parser;
    parser.body_limit(options.max_response_body_bytes);
    parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(options.max_response_header_bytes,
                                                                         std::numeric_limits<std::uint32_t>::max())));
    if (message.method() == beast_http::verb::head) parser.skip(true);
    auto [read_error, read] = co_await beast_http::async_read(stream, buffer, parser);
    lowest(stream).expires_never();
    if (read_error) {
      const bool nothing_received = !parser.got_some() &&
                                    (read_error == beast_http::error::end_of_stream ||
                                     read_error == asio::error::connection_reset || read_error == asio::error::eof);
      co_return Outcome{map_error(read_error, "reading the response"), false, nothing_received};
    }
    auto response_message = parser.release();
    ClientResponse response;
    response.status = response_message.result_int();
    response.headers = std::move(response_message.base());
    response.body = std::move(response_message.body());
    const bool reusable = response_message.keep_alive();
    co_return Outcome{std::move(response), reusable, false};
  }

  // Sends `request` to `endpoint` once (retrying once on a fresh connection when a pooled one had
  // gone stale).
  asio::awaitable<Result<ClientResponse>> exchange(const Endpoint& endpoint, const ClientRequest& request,
                                                   Clock::time_point deadline) {
    beast_http::request<beast_http::string_body> message(request.method, endpoint.target, 11);
    for (const auto& field : request.headers) message.insert(field.name_string(), field.value());
    message.set(beast_http::field::host, endpoint.host_header);
    if (message.find(beast_http::field::user_agent) == message.end()) {
      message.set(beast_http::field::user_agent, options.user_agent);
    }
    message.body() = request.body;
    message.prepare_payload();
    message.keep_alive(options.max_idle_connections_per_host > 0);

    asio::execution_context& context = asio::query(co_await asio::this_coro::executor, asio::execution::context);
    for (int attempt = 0;; ++attempt) {
      std::unique_ptr<Connection> connection = take(context, endpoint.pool_key);
      const bool reused = connection != nullptr;
      if (!reused) {
        auto made = co_await connect(endpoint, deadline);
        if (!made.ok()) co_return made.error();
        connection = std::move(made).value();
      }
      // (Not a ?: expression: g++ 12 miscompiles co_await inside the conditional operator.)
      std::optional<Outcome> outcome;
      if (auto* tls = std::get_if<TlsStream>(&connection->stream)) {
        outcome.emplace(co_await send_receive(*tls, connection->buffer, message, deadline));
      } else {
        outcome.emplace(co_await send_receive(std::get<io::TcpStream>(connection->stream), connection->buffer, message,
                                              deadline));
      }
      const bool retry = reused && attempt == 0 && outcome->stale && is_idempotent(request.method);
      if (retry) continue;
      if (outcome->response.ok() && outcome->reusable) give_back(context, endpoint.pool_key, std::move(connection));
      co_return std::move(outcome->response);
    }
  }

  asio::awaitable<Result<ClientResponse>> run(ClientRequest request) {
    const auto deadline = Clock::now() + options.total_timeout;
    for (std::size_t redirects = 0;; ++redirects) {
      auto endpoint = parse_url(request.url, options.allow_plain_http);
      if (!endpoint.ok()) co_return endpoint.error();
      auto response = co_await exchange(*endpoint, request, deadline);
      if (!response.ok()) co_return response.error();
      response->url = request.url;
      const auto location = response->header("Location");
      if (options.max_redirects == 0 || !is_redirect(response->status) || !location) co_return response;
      if (redirects >= options.max_redirects) co_return Error(ErrorCode::kUnavailable, "too many redirects");

      const auto reference = boost::urls::parse_uri_reference(*location);
      boost::urls::url next;
      if (!reference || !boost::urls::resolve(boost::urls::url_view(request.url), *reference, next)) {
        co_return Error(ErrorCode::kMalformed, "invalid redirect location");
      }
      next.remove_fragment();
      auto next_endpoint = parse_url(next.buffer(), options.allow_plain_http);
      if (!next_endpoint.ok()) {
        co_return Error(ErrorCode::kUnavailable, "redirect refused: " + next_endpoint.error().reason());
      }
      if (next_endpoint->host != endpoint->host) {
        request.headers.erase(beast_http::field::authorization);
        request.headers.erase(beast_http::field::cookie);
      }
      const unsigned status = response->status;
      if (status == 303 || ((status == 301 || status == 302) && request.method == beast_http::verb::post)) {
        if (request.method != beast_http::verb::head) request.method = beast_http::verb::get;
        request.body.clear();
        request.headers.erase(beast_http::field::content_type);
        request.headers.erase(beast_http::field::content_length);
      }
      request.url = std::string(next.buffer());
    }
  }
};

std::optional<std::string_view> ClientResponse::header(std::string_view name) const {
  const auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  return std::string_view(it->value());
}

Result<std::unique_ptr<Client>> Client::create(ClientOptions options) {
  auto context = make_client_tls_context(options.verify_peer, options.ca_file);
  if (!context.ok()) return context.error();
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->tls_context = std::move(context).value();
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

asio::awaitable<Result<ClientResponse>> Client::request(ClientRequest request) {
  // Cancellation must come back as an Error, not an exception: the flag belongs to the awaiting
  // coroutine's thread, so restore it afterwards.
  const bool throw_if_cancelled = co_await asio::this_coro::throw_if_cancelled();
  co_await asio::this_coro::throw_if_cancelled(false);
  Result<ClientResponse> response = co_await impl_->run(std::move(request));
  co_await asio::this_coro::throw_if_cancelled(throw_if_cancelled);
  co_return response;
}

void Client::close_idle() {
  std::map<Pool::Key, std::vector<std::unique_ptr<Connection>>> closing;
  const std::lock_guard lock(impl_->pool->mutex);
  closing.swap(impl_->pool->idle);
}

std::size_t Client::idle_connections() const {
  const std::lock_guard lock(impl_->pool->mutex);
  std::size_t count = 0;
  for (const auto& [key, list] : impl_->pool->idle) count += list.size();
  return count;
}

const ClientOptions& Client::options() const noexcept { return impl_->options; }

}  // namespace wik::http
