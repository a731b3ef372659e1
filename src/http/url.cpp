#include "http/url.h"

#include <boost/url/parse.hpp>

namespace wik::http {

Result<boost::urls::url_view> parse_absolute_url(std::string_view text) {
  const auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) return Error(ErrorCode::kInvalidArgument, "invalid URL");
  const boost::urls::url_view url = *parsed;
  if (!url.has_authority() || url.encoded_host().empty()) return Error(ErrorCode::kInvalidArgument, "URL has no host");
  if (!url.encoded_path().empty() && !url.encoded_path().starts_with('/')) {
    return Error(ErrorCode::kInvalidArgument, "invalid URL host");
  }
  return url;
}

}  // namespace wik::http
