#include "store/database.h"

#include <charconv>

namespace wik::store {
namespace {

const std::string kEmpty;

}  // namespace

const std::string& Row::text(std::size_t column) const {
  const std::optional<std::string>& value = columns_.at(column);
  return value ? *value : kEmpty;
}

std::int64_t Row::integer(std::size_t column) const { return optional_integer(column).value_or(0); }

std::optional<std::int64_t> Row::optional_integer(std::size_t column) const {
  const std::optional<std::string>& value = columns_.at(column);
  if (!value) return std::nullopt;
  std::int64_t out = 0;
  const char* end = value->data() + value->size();
  auto [ptr, ec] = std::from_chars(value->data(), end, out);
  if (ec != std::errc() || ptr != end) fatal("store column is not an integer");
  return out;
}

bool is_sql_identifier(std::string_view name) noexcept {
  constexpr std::size_t kMaxIdentifier = 63;
  if (name.empty() || name.size() > kMaxIdentifier) return false;
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!letter(name.front())) return false;
  for (char c : name) {
    if (!letter(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace wik::store
