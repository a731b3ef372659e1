// Redaction: the second line of defence that keeps secrets out of log lines.
//
// redact_secrets finds the values of sensitive parameters in free text (a logged URL, form body,
// Authorization header or JSON document) and replaces each with "[redacted]" (wik::kRedacted):
//   name=VALUE              query strings and form bodies: VALUE ends at & , ; < > ' " or whitespace;
//                           a quoted VALUE (name="..." or name='...') ends at its closing quote
//   "name" : "VALUE"        JSON string members, escaped quotes inside VALUE included; numbers,
//                           null, booleans, objects and arrays are left alone
//   Bearer VALUE, OAuth VALUE   Authorization header credentials
// The names are access_token, appsecret_proof, client_secret, app_secret, secret, code,
// signed_request, verify_token, password, session, state, token and key. They match in any case,
// and only as a whole identifier: the character before a name must not be a letter, digit or '_'
// ("hub.verify_token=" matches verify_token; "error_code=" does not match code; "page_access_token"
// matches nothing). A JSON string cut off before its closing quote is redacted to the end.
// Values are found, not validated, so the guard errs towards redacting. Text without sensitive
// parameters comes back unchanged; redacting twice gives the same text as once. Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace wik::core {

// Returns `text` with the value of every sensitive parameter and credential replaced by "[redacted]".
std::string redact_secrets(std::string_view text);

}  // namespace wik::core
