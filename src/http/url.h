// parse_absolute_url: Boost.URL's absolute-URI parser with the one guard it lacks in Boost 1.81.
//
// Boost.URL 1.81 reads "http://127.0.0.1.evil.example/x" as host 127.0.0.1 with the path
// ".evil.example/x": an IPv4 literal that prefixes a longer host name wins, and the rest is taken
// as a path that does not start with "/", which RFC 3986 forbids after an authority. Such a URL
// would send a request somewhere other than where its text seems to point, so it is refused here.
// Every absolute URL wik acts on is parsed through this function. Pure and thread-safe.
#pragma once

#include <wik/result.h>

#include <boost/url/url_view.hpp>
#include <string_view>

namespace wik::http {

// Returns a view of `text` (which must outlive it) as an absolute URL, or kInvalidArgument when
// it is not one, has no host, or its path after the authority does not start with "/".
Result<boost::urls::url_view> parse_absolute_url(std::string_view text);

}  // namespace wik::http
