#include "http/html.h"

#include <boost/beast/http/field.hpp>
#include <fmt/format.h>

#include <algorithm>

namespace wik::http {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string html_page(std::string_view title, std::string_view body_html, std::string_view head_html) {
  std::string page =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
  page += html_escape(title);
  page +=
      "</title>\n<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;"
      "line-height:1.5}label{display:block;margin:.5rem 0}button{margin:.5rem .5rem 0 0}"
      ".note{color:#555}.error{color:#a00}</style>\n";
  page += head_html;
  page += "</head>\n<body>\n";
  page += body_html;
  page += "\n</body>\n</html>\n";
  return page;
}

std::string problem_page(std::string_view title, std::string_view happened, std::string_view to_do,
                         std::span<const PageLink> links) {
  std::string body = fmt::format("<h1>{}</h1>\n<p>{}</p>\n<p><strong>What to do:</strong> {}</p>\n",
                                 html_escape(title), html_escape(happened), html_escape(to_do));
  for (const PageLink& link : links) {
    body += fmt::format("<p><a href=\"{}\">{}</a></p>\n", html_escape(link.href), html_escape(link.label));
  }
  return html_page(title, body);
}

std::string time_left(std::chrono::seconds remaining) {
  const auto seconds = std::max<std::chrono::seconds::rep>(remaining.count(), 0);
  return fmt::format("{}:{:02}", seconds / 60, seconds % 60);
}

Response html_response(std::string page, boost::beast::http::status status) {
  using boost::beast::http::field;
  Response response(status);
  response.set_header(field::content_type, "text/html; charset=utf-8");
  response.set_header("Content-Security-Policy",
                      "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'");
  response.set_header("X-Frame-Options", "DENY");
  response.set_header("Referrer-Policy", "no-referrer");
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header(field::cache_control, "no-store");
  response.set_body(std::move(page));
  return response;
}

}  // namespace wik::http
