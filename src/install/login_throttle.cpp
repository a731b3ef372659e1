#include "install/login_throttle.h"

#include <wik/result.h>

#include <boost/asio/ip/address.hpp>

#include <algorithm>

namespace wik::install {
namespace {

namespace ip = boost::asio::ip;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Returns `address` without a port some proxies append: "[2001:db8::1]:443", "192.0.2.1:443".
std::string_view without_port(std::string_view address) {
  if (address.starts_with('[')) return address.substr(1, address.find(']') - 1);
  if (const std::size_t colon = address.find(':'); colon != std::string_view::npos &&
                                                   address.find(':', colon + 1) == std::string_view::npos) {
    return address.substr(0, colon);
  }
  return address;
}

}  // namespace

std::string client_key(std::string_view address) {
  const std::string text(without_port(trim(address)));
  boost::system::error_code ec;
  const ip::address parsed = ip::make_address(text, ec);
  if (ec) return text;
  if (parsed.is_v4()) return parsed.to_string();
  const ip::address_v6 v6 = parsed.to_v6();
  if (v6.is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, v6).to_string();
  ip::address_v6::bytes_type prefix = v6.to_bytes();
  std::fill(prefix.begin() + 8, prefix.end(), 0);
  return ip::make_address_v6(prefix).to_string() + "/64";
}

std::string client_address(std::string_view peer, const std::vector<std::string_view>& forwarded_for,
                           std::size_t trusted_proxy_hops) {
  if (trusted_proxy_hops == 0) return std::string(peer);
  std::vector<std::string_view> entries;
  for (std::string_view line : forwarded_for) {
    while (!line.empty()) {
      const std::size_t comma = line.find(',');
      if (const auto entry = trim(line.substr(0, comma)); !entry.empty()) entries.push_back(entry);
      line = comma == std::string_view::npos ? std::string_view() : line.substr(comma + 1);
    }
  }
  if (entries.empty()) return std::string(peer);
  const std::size_t from_right = std::min(trusted_proxy_hops, entries.size());
  return std::string(entries[entries.size() - from_right]);
}

LoginThrottle::LoginThrottle(const core::Clock& clock, std::size_t max_failures, std::chrono::seconds window,
                             std::size_t max_keys)
    : clock_(clock), max_failures_(max_failures), window_(window), max_keys_(max_keys) {
  if (max_failures == 0 || window.count() <= 0 || max_keys == 0) fatal("LoginThrottle: limits must be > 0");
}

std::chrono::seconds LoginThrottle::wait_for(std::string_view key) {
  const std::lock_guard lock(mutex_);
  const auto found = failures_.find(key);
  if (found == failures_.end()) return std::chrono::seconds(0);
  const TimePoint now = clock_.now();
  forget_stale(found->second, now);
  if (found->second.size() < max_failures_) return std::chrono::seconds(0);
  const auto remaining = found->second.front() + window_ - now;
  return std::chrono::ceil<std::chrono::seconds>(remaining);
}

void LoginThrottle::record_failure(std::string_view key) {
  const std::lock_guard lock(mutex_);
  const TimePoint now = clock_.now();
  if (failures_.size() >= max_keys_ && !failures_.contains(key)) evict(now);
  auto& failures = failures_[std::string(key)];
  forget_stale(failures, now);
  failures.push_back(now);
  if (failures.size() > max_failures_) failures.erase(failures.begin());
}

void LoginThrottle::reset(std::string_view key) {
  const std::lock_guard lock(mutex_);
  if (const auto found = failures_.find(key); found != failures_.end()) failures_.erase(found);
}

void LoginThrottle::forget_stale(std::vector<TimePoint>& failures, TimePoint now) const {
  const auto first_fresh =
      std::ranges::find_if(failures, [&](TimePoint failure) { return failure + window_ > now; });
  failures.erase(failures.begin(), first_fresh);
}

void LoginThrottle::evict(TimePoint now) {
  for (auto it = failures_.begin(); it != failures_.end();) {
    forget_stale(it->second, now);
    it = it->second.empty() ? failures_.erase(it) : std::next(it);
  }
  if (failures_.size() < max_keys_) return;
  const auto oldest = std::ranges::min_element(
      failures_, [](const auto& a, const auto& b) { return a.second.back() < b.second.back(); });
  failures_.erase(oldest);
}

}  // namespace wik::install
