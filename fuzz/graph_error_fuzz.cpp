// Fuzz target graph_error: a Graph API response body as the client reads it after a call
// (parse_graph_error, then graph_error for the response's HTTP status). Input: one byte choosing
// the status, the body after it. Checks: the public reason names only the code and subcode
// ("graph error 190/458") or the HTTP status, never text from the body; and a dead token (code 190)
// and the throttling codes map to kUnauthenticated and kRateLimited whatever the status.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>

#include "graph/graph_error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wik::graph;
  constexpr unsigned kStatuses[] = {200, 400, 401, 403, 404, 429, 500, 503};
  if (size == 0) return 0;
  const unsigned status = kStatuses[data[0] % std::size(kStatuses)];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  const auto parsed = parse_graph_error(body);
  const wik::Error error = graph_error(status, parsed);
  if (!parsed) {
    if (error.reason() != "graph call failed with HTTP " + std::to_string(status)) std::abort();
    return 0;
  }
  std::string reason = "graph error " + std::to_string(parsed->code);
  if (parsed->subcode) reason += "/" + std::to_string(*parsed->subcode);
  if (error.reason() != reason) std::abort();
  if (parsed->code == 190 && error.code() != wik::ErrorCode::kUnauthenticated) std::abort();
  if (is_throttling_code(parsed->code) && error.code() != wik::ErrorCode::kRateLimited) std::abort();
  return 0;
}
