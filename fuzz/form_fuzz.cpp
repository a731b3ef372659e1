// Fuzz target form: an application/x-www-form-urlencoded body as a handler gets it from the server
// (Beast's parser, then Request::form(): the media type check and parse_form), and the same text
// as the query string of a request target (parse_target). Input: the Content-Type value up to the
// first newline, the body after it. Checks: parse_form reads nothing past the end of its text;
// form() yields exactly what parse_form yields for the body; decoded fields re-encoded with
// encode_form decode to the same fields; and non-empty text that decodes as a form decodes to the
// same fields as a query string.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/server/message.h"
#include "http/url.h"
#include "parsed_request.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wik::http;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  const std::string_view content_type = input.substr(0, newline);
  const std::string_view body = input.substr(newline + 1);

  const auto fields = parse_form(body);
  // The same text followed by more fields in memory: only the text itself may be read.
  const std::string followed = std::string(body) + "&after=end";
  const auto fields_in_view = parse_form(std::string_view(followed).substr(0, body.size()));
  if (fields.ok() != fields_in_view.ok() || (fields.ok() && fields->entries() != fields_in_view->entries())) {
    std::abort();
  }
  const auto request = wik::fuzz::parse_request("POST /form HTTP/1.1\r\nHost: fuzz\r\nContent-Type: " +
                                                std::string(content_type) + "\r\nContent-Length: " +
                                                std::to_string(body.size()) + "\r\n\r\n" + std::string(body));
  if (request) {
    const auto form = request->form();
    if (form.ok() && (!fields.ok() || form->entries() != fields->entries())) std::abort();
  }
  if (!fields.ok()) return 0;

  const auto again = parse_form(encode_form(fields->entries()));
  if (!again.ok() || again->entries() != fields->entries()) std::abort();
  // An empty text aside: Boost.URL counts the fields of "" and of the query of "/?" differently.
  if (!body.empty() && body.find('#') == std::string_view::npos) {
    const auto target = parse_target("/?" + std::string(body));
    if (!target.ok() || target->query.entries() != fields->entries()) std::abort();
  }
  return 0;
}
