// decode_event: an inbox event (topic + the payload webhooks/payload.h stored) turned into the
// public event type its handler takes (include/wik/events.h). Topics without a public type decode
// to std::monostate (the dispatcher completes them without a handler). A payload that lacks what
// its type needs is kMalformed. decode_link_request does the same for the link requests the ingest
// answers inline (they are never stored). Pure, thread-safe.
#pragma once

#include <wik/events.h>
#include <wik/link_preview.h>
#include <wik/result.h>

#include <string_view>
#include <variant>

namespace wik::app {

using DecodedEvent = std::variant<std::monostate, Message, Postback, Mention, GroupPost, Comment>;

Result<DecodedEvent> decode_event(std::string_view community_id, std::string_view topic, std::string_view payload);

// Returns the request of a link event (`field` preview or collection, the payload as above):
// kMalformed for another field, a payload that is not a JSON object, or a preview without its link.
Result<LinkRequest> decode_link_request(std::string_view community_id, std::string_view field, std::string_view payload);

}  // namespace wik::app
