#include "emulator/pages/sessions.h"

#include <algorithm>

#include "core/constant_time.h"
#include "core/secure_random.h"

namespace wik::emulator {
namespace {

constexpr std::string_view kCookieAttributes = "; Path=/; HttpOnly; SameSite=Lax";

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<std::string_view> find_cookie(std::string_view cookie_header, std::string_view name) {
  while (!cookie_header.empty()) {
    const std::size_t end = std::min(cookie_header.find(';'), cookie_header.size());
    const std::string_view pair = trim(cookie_header.substr(0, end));
    cookie_header.remove_prefix(std::min(end + 1, cookie_header.size()));
    const std::size_t equals = pair.find('=');
    if (equals != std::string_view::npos && trim(pair.substr(0, equals)) == name) return trim(pair.substr(equals + 1));
  }
  return std::nullopt;
}

Sessions::Sessions(const core::Clock& clock, SessionOptions options) : clock_(clock), options_(options) {
  if (options_.max_sessions == 0) fatal("Sessions: max_sessions must be > 0");
}

std::optional<Session> Sessions::find(const http::Request& request) {
  const auto header = request.header("Cookie");
  if (!header) return std::nullopt;
  const auto id = find_cookie(*header, kCookieName);
  if (!id) return std::nullopt;
  const std::int64_t now = clock_.unix_seconds();
  std::lock_guard lock(mutex_);
  const auto it = sessions_.find(*id);
  if (it == sessions_.end()) return std::nullopt;
  if (now - it->second.last_used > options_.idle_lifetime.count()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_used = now;
  return it->second.session;
}

Session Sessions::start(std::optional<Id> user_id) {
  Session session{.id = core::secure_random_token(32), .csrf_token = core::secure_random_token(32),
                  .user_id = std::move(user_id)};
  const std::int64_t now = clock_.unix_seconds();
  std::lock_guard lock(mutex_);
  if (sessions_.size() >= options_.max_sessions) drop_least_recently_used();
  sessions_[session.id] = Entry{.session = session, .last_used = now};
  return session;
}

void Sessions::end(const std::string& id) {
  std::lock_guard lock(mutex_);
  sessions_.erase(id);
}

void Sessions::drop_least_recently_used() {
  const auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
    return a.second.last_used < b.second.last_used;
  });
  if (oldest != sessions_.end()) sessions_.erase(oldest);
}

bool Sessions::csrf_matches(const Session& session, std::string_view token) {
  return core::constant_time_equal(token, session.csrf_token);
}

std::string Sessions::cookie(const Session& session) {
  return std::string(kCookieName) + "=" + session.id + std::string(kCookieAttributes);
}

std::string Sessions::expired_cookie() {
  return std::string(kCookieName) + "=" + std::string(kCookieAttributes) + "; Max-Age=0";
}

}  // namespace wik::emulator
