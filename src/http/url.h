// URL helpers: parse_absolute_url, Boost.URL's absolute-URI parser with the one guard it lacks in
// Boost 1.81, and percent-encoding for paths, queries and forms.
//
// Boost.URL 1.81 reads "http://127.0.0.1.evil.example/x" as host 127.0.0.1 with the path
// ".evil.example/x": an IPv4 literal that prefixes a longer host name wins, and the rest is taken
// as a path that does not start with "/", which RFC 3986 forbids after an authority. Such a URL
// would send a request somewhere other than where its text seems to point, so it is refused here.
// Every absolute URL wik acts on is parsed through this function. Pure and thread-safe.
#pragma once

#include <wik/result.h>

#include <boost/url/url_view.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wik::http {

// Returns a view of `text` (which must outlive it) as an absolute URL, or kInvalidArgument when
// it is not one, has no host, or its path after the authority does not start with "/".
Result<boost::urls::url_view> parse_absolute_url(std::string_view text);

// Returns `text` with every byte outside the unreserved set (A-Z a-z 0-9 - . _ ~) percent-encoded:
// safe as a path segment, a query value or a form value.
std::string percent_encode(std::string_view text);

// Returns name=value pairs joined by '&' with every byte outside the unreserved set (A-Z a-z 0-9
// - . _ ~) percent-encoded, so '+', '=', '&' and spaces survive any query or form parser.
// (Boost.URL 1.81's params().append leaves '+' and '=' as they are, and a form parser reads '+' as
// a space.) For query strings and application/x-www-form-urlencoded bodies alike.
std::string encode_form(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace wik::http
