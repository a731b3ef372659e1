// HTML and URL text for the emulator's pages: escaping, query encoding, and the one page layout.
//
// Every piece of dynamic text a page shows goes through escape() (or a function here that calls
// it), so names, messages and parameters chosen by apps or people can never become markup.
// The layout carries one small inline stylesheet and, optionally, one inline script that runs only
// under the page's Content-Security-Policy nonce; pages load nothing from anywhere else.
// Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/html.h"
#include "http/server/message.h"

namespace wik::emulator::html {

// Returns `text` with & < > " ' replaced by character references, safe inside element content and
// quoted attribute values (wik's one HTML escaper, http::html_escape).
inline std::string escape(std::string_view text) { return http::html_escape(text); }

// Returns `text` encoded for a query component as browsers send forms: unreserved bytes kept,
// space as '+', everything else as %XX.
std::string query_component(std::string_view text);

// Returns `text` percent-encoded for one path segment (unreserved bytes kept).
std::string path_segment(std::string_view text);

// Returns `base` with `parameters` appended to its query ('?' or '&' as needed, before any
// fragment), each name and value encoded with query_component().
std::string with_query(std::string_view base, const std::vector<std::pair<std::string, std::string>>& parameters);

// Returns true when `url` is an absolute http or https URL (what a link shown to a person may open).
bool is_web_url(std::string_view url);

// Returns true when `target` is a path on this host ("/x?y"), never a scheme-relative or absolute
// URL, so it is safe to redirect to after sign-in.
bool is_local_path(std::string_view target);

// Who is signed in, for the header every page carries.
struct Viewer {
  std::string name;
  std::string community_name;
  bool system_admin = false;
  std::string csrf_token;  // for the sign-out form
};

struct Page {
  std::string title;                 // plain text; escaped by render()
  std::optional<Viewer> viewer;      // nullopt: signed out, no navigation
  std::string body;                  // HTML, already escaped by the caller
  std::string script;                // inline JavaScript, or empty
  boost::beast::http::status status = boost::beast::http::status::ok;
};

// Returns the complete response for `page`: the layout, headers that keep the page out of caches
// and frames, and a Content-Security-Policy allowing only the inline style and the page's own
// script (by a fresh nonce).
http::Response render(const Page& page);

// Returns a hidden form field carrying the CSRF token.
std::string csrf_field(std::string_view token);

}  // namespace wik::emulator::html
