// parse_request: the http::Request a handler would receive for the raw text of one HTTP/1.1 request,
// read by Beast's parser with the server's default limits and its target decoded by parse_target,
// or nullopt when the server would answer it with an error before any handler runs. Shared by the
// fuzz targets that feed what handlers read from a request (form fields, cookies).
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "http/server/message.h"
#include "http/server/options.h"

namespace wik::fuzz {

inline std::optional<http::Request> parse_request(std::string_view text) {
  namespace beast_http = boost::beast::http;
  const http::ServerOptions limits;
  beast_http::request_parser<beast_http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser.body_limit(limits.max_body_bytes);
  parser.eager(true);
  boost::system::error_code ec;
  while (!parser.is_done() && !text.empty()) {
    const std::size_t used = parser.put(boost::asio::buffer(text.data(), text.size()), ec);
    text.remove_prefix(used);
    if (ec || used == 0) break;
  }
  if (ec == beast_http::error::need_more) ec = {};
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return std::nullopt;
  auto target = http::parse_target(parser.get().target());
  if (!target.ok()) return std::nullopt;
  return http::Request(parser.release(), std::move(target).value(), "/", {}, "fuzz");
}

}  // namespace wik::fuzz
