// Fuzz target: a webhook delivery body as a hostile sender could shape it (once signed), through
// parse_webhook and on into the typed events handlers receive (app::decode_event). Neither may crash;
// every event parse_webhook accepts carries a community id and a key, and decoding keeps the event
// in its community.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <type_traits>
#include <variant>

#include "app/events.h"
#include "webhooks/payload.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto delivery = wik::webhooks::parse_webhook(body);
  if (!delivery.ok()) return 0;
  for (const auto& event : delivery->events) {
    if (event.community_id.empty() || event.dedupe_key.empty()) std::abort();
    const auto decoded =
        wik::app::decode_event(event.community_id, event.object + "/" + event.field, event.payload);
    if (!decoded.ok()) continue;
    std::visit(
        [&event](const auto& typed) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(typed)>, std::monostate>) {
            if (typed.community_id != event.community_id) std::abort();
          }
        },
        *decoded);
  }
  return 0;
}
