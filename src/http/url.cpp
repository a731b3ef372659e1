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

std::string percent_encode(std::string_view text) {
  constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                            (byte >= '0' && byte <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kDigits[byte >> 4];
      out += kDigits[byte & 0xf];
    }
  }
  return out;
}

std::string encode_form(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += percent_encode(name);
    out += '=';
    out += percent_encode(value);
  }
  return out;
}

}  // namespace wik::http
