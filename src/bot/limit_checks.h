// The checks every bot builder (Reply, Card, MessengerProfile) runs before rendering: lengths in
// characters (code points of valid UTF-8), counts and web URLs. Each failure is kInvalidArgument
// with a reason that names what was checked and the platform's limit. Pure functions, thread-safe.
#pragma once

#include <wik/result.h>

#include <cstddef>
#include <string_view>

namespace wik::bot {

// Checks that `text` is valid UTF-8 of 1 to `max` characters; `what` names it in the reason
// ("the text has 2001 characters; the platform allows 2000").
Result<void> check_length(std::string_view what, std::string_view text, std::size_t max);

// Checks that `owner` has at most `max` `items` ("card 2 has 4 buttons; the platform allows at most 3").
Result<void> check_count(std::string_view owner, std::string_view items, std::size_t count, std::size_t max);

// Checks that `url` is an absolute http or https URL ("a link button needs an http(s) URL").
Result<void> check_web_url(std::string_view what, std::string_view url);

}  // namespace wik::bot
