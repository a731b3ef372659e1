// HTML for pages a person reads in a browser: escaping of untrusted text, a minimal page layout,
// and the response that carries such a page.
//
// html_escape() makes any text safe inside element content and inside quoted attribute values
// (it escapes & < > " '), so names and messages that come from elsewhere cannot add markup.
// html_page() wraps body markup the caller built from escaped parts into a complete UTF-8 HTML5
// document; problem_page() is the one layout of every page that says what went wrong and what to
// do; time_left() writes a countdown as "m:ss". html_response() sends it with headers that keep the page from being framed, from
// loading anything from another origin or running scripts, from leaking its URL in Referer, and
// from being cached. Knows nothing of Workplace. Pure functions, thread-safe.
#pragma once

#include <boost/beast/http/status.hpp>

#include <chrono>
#include <span>
#include <string>
#include <string_view>

#include "http/server/message.h"

namespace wik::http {

// Returns `text` with & < > " ' replaced by character references.
std::string html_escape(std::string_view text);

// Returns an HTML5 document titled `title` (escaped here) whose body is `body_html` and whose head
// ends with `head_html` (both trusted markup: escape every untrusted part before building them).
std::string html_page(std::string_view title, std::string_view body_html, std::string_view head_html = {});

// A link a page offers (`href` and `label` are escaped where they are used).
struct PageLink {
  std::string href;
  std::string label;
};

// Returns a page titled `title` saying what happened, what to do, and offering `links` (all text
// escaped here).
std::string problem_page(std::string_view title, std::string_view happened, std::string_view to_do,
                         std::span<const PageLink> links = {});

// Returns `remaining` as minutes and seconds ("4:05"); "0:00" when it is not positive.
std::string time_left(std::chrono::seconds remaining);

// Returns a text/html response carrying `page`, with Content-Security-Policy (no scripts, nothing
// from other origins, no framing), X-Frame-Options: DENY, Referrer-Policy: no-referrer,
// X-Content-Type-Options: nosniff and Cache-Control: no-store.
Response html_response(std::string page, boost::beast::http::status status = boost::beast::http::status::ok);

}  // namespace wik::http
