#include "emulator/pages/html.h"

#include <array>
#include <cctype>

#include "core/secure_random.h"

namespace wik::emulator::html {
namespace {

namespace beast_http = boost::beast::http;

constexpr std::string_view kStyle = R"css(
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,sans-serif;color:#1c1e21;background:#f0f2f5}
header{display:flex;gap:1em;align-items:center;padding:.5em 1em;background:#20232a;color:#fff}
header a{color:#fff}
header button{background:transparent;border-color:#fff;color:#fff}
header .who{margin-left:auto}
header form{display:inline}
main{max-width:52em;margin:1em auto;padding:0 1em}
.card{background:#fff;border-radius:8px;padding:1em;margin:0 0 1em;box-shadow:0 1px 2px #0002}
.notice{background:#fff8d6;border:1px solid #e8d27a;border-radius:6px;padding:.6em .8em}
.error{border-left:4px solid #c62828}
.app{display:flex;gap:1em;align-items:center}
.app h1,.app h2{margin:0 0 .2em}
.icon{width:56px;height:56px;border-radius:10px;flex:none;object-fit:cover}
.placeholder{display:flex;align-items:center;justify-content:center;background:#5b6abf;color:#fff;font-size:26px}
.muted{color:#65676b;font-size:.9em}
.badge{font-size:.8em;background:#e7f3ff;color:#1760b8;border-radius:4px;padding:0 .4em}
button,.button{font:inherit;padding:.35em .9em;border-radius:6px;border:1px solid #8a8d91;background:#fff;cursor:pointer;text-decoration:none;color:#1c1e21;display:inline-block}
.button.primary,button.primary{background:#1b74e4;border-color:#1b74e4;color:#fff}
ul.plain{list-style:none;padding:0}
.messages{display:flex;flex-direction:column;gap:.5em}
.msg{max-width:75%;padding:.5em .8em;border-radius:14px;background:#e4e6eb;white-space:pre-wrap;word-wrap:break-word}
.msg.mine{align-self:flex-end;background:#1b74e4;color:#fff}
.msg.mine .muted{color:#dbe7ff}
.buttons,.quick{display:flex;flex-wrap:wrap;gap:.4em;margin-top:.4em}
.quick button{border-radius:16px;border-color:#1b74e4;color:#1b74e4}
.element{border:1px solid #ddd;border-radius:8px;padding:.5em;margin-top:.4em;background:#fff;color:#1c1e21}
textarea,input[type=text]{font:inherit;width:100%;padding:.4em;border:1px solid #ccd0d5;border-radius:6px}
.mention{color:#1760b8;font-weight:600}
.comment{margin:.4em 0 .4em 1.2em;padding-left:.6em;border-left:2px solid #ddd}
)css";

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~';
}

std::string percent_encode(std::string_view text, bool space_as_plus) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (is_unreserved(byte)) {
      out += c;
    } else if (c == ' ' && space_as_plus) {
      out += '+';
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0F];
    }
  }
  return out;
}

std::string navigation(const Viewer& viewer) {
  std::string out = "<header><strong>Workplace emulator</strong><a href=\"/chat\">Chat</a><a href=\"/groups\">Groups</a>";
  if (viewer.system_admin) out += "<a href=\"/work/admin/?section=apps\">Integrations</a>";
  out += "<span class=\"who\">Signed in as <strong>" + escape(viewer.name) + "</strong> (" +
         escape(viewer.community_name) + ")</span>";
  out += "<form method=\"post\" action=\"/logout\">" + csrf_field(viewer.csrf_token) +
         "<button type=\"submit\">Sign out</button></form></header>";
  return out;
}

}  // namespace

std::string query_component(std::string_view text) { return percent_encode(text, true); }

std::string path_segment(std::string_view text) { return percent_encode(text, false); }

std::string with_query(std::string_view base, const std::vector<std::pair<std::string, std::string>>& parameters) {
  const std::size_t fragment = base.find('#');
  std::string out(base.substr(0, fragment));
  char separator = out.find('?') == std::string::npos ? '?' : '&';
  if (!out.empty() && (out.back() == '?' || out.back() == '&')) separator = '\0';
  for (const auto& [name, value] : parameters) {
    if (separator != '\0') out += separator;
    out += query_component(name) + "=" + query_component(value);
    separator = '&';
  }
  if (fragment != std::string_view::npos) out += base.substr(fragment);
  return out;
}

bool is_web_url(std::string_view url) {
  const auto starts_with_nocase = [url](std::string_view prefix) {
    if (url.size() <= prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(url[i])) != prefix[i]) return false;
    }
    return true;
  };
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) return false;
  }
  return starts_with_nocase("http://") || starts_with_nocase("https://");
}

bool is_local_path(std::string_view target) {
  if (target.empty() || target.front() != '/') return false;
  if (target.size() > 1 && (target[1] == '/' || target[1] == '\\')) return false;
  for (char c : target) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F || c == '\\') return false;
  }
  return true;
}

std::string csrf_field(std::string_view token) {
  return "<input type=\"hidden\" name=\"csrf\" value=\"" + escape(token) + "\">";
}

http::Response render(const Page& page) {
  const std::string nonce = core::secure_random_token(16);
  std::string body = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>";
  body += escape(page.title);
  body += " · Workplace emulator</title><style>";
  body += kStyle;
  body += "</style></head><body>";
  if (page.viewer) body += navigation(*page.viewer);
  body += "<main>" + page.body + "</main>";
  if (!page.script.empty()) body += "<script nonce=\"" + nonce + "\">" + page.script + "</script>";
  body += "</body></html>";

  http::Response response(page.status);
  response.set_header(beast_http::field::content_type, "text/html; charset=utf-8");
  response.set_header(beast_http::field::cache_control, "no-store");
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header("X-Frame-Options", "DENY");
  response.set_header("Referrer-Policy", "no-referrer");
  response.set_header("Content-Security-Policy",
                      "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; connect-src 'self'; "
                      "script-src 'nonce-" + nonce + "'; base-uri 'none'; frame-ancestors 'none'");
  response.set_body(std::move(body));
  return response;
}

}  // namespace wik::emulator::html
