// Sessions: who is using the emulator's pages in which browser, kept in memory only.
//
// A session is keyed by a random 256-bit id carried in the HttpOnly, SameSite=Lax cookie
// "wik_emulator_session" and holds its own random CSRF token, which every POST form must carry.
// A visitor gets a signed-out session when the sign-in page is shown (so the sign-in form is
// protected too); signing in replaces it with a new session (a new id, so a planted cookie is never
// promoted) and signing out ends it. Sessions idle longer than `idle_lifetime` (on the given clock)
// are gone; when `max_sessions` are live, the least recently used is dropped for a new one.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "emulator/state/platform_state.h"
#include "http/server/message.h"

namespace wik::emulator {

struct Session {
  std::string id;
  std::string csrf_token;
  std::optional<Id> user_id;  // platform user id; nullopt while signed out
};

struct SessionOptions {
  std::size_t max_sessions = 10000;                      // REQUIRES: > 0
  std::chrono::seconds idle_lifetime = std::chrono::hours(24);
};

class Sessions {
 public:
  static constexpr std::string_view kCookieName = "wik_emulator_session";

  explicit Sessions(const core::Clock& clock, SessionOptions options = {});

  // Returns the live session named by the request's cookie (and marks it used), or nullopt.
  std::optional<Session> find(const http::Request& request);
  // Starts a session, signed out or signed in as `user_id`, and returns it.
  Session start(std::optional<Id> user_id);
  // Ends the session `id` (no effect when it does not exist).
  void end(const std::string& id);

  // Returns true when `token` is the session's CSRF token, compared in constant time.
  static bool csrf_matches(const Session& session, std::string_view token);
  // Returns the Set-Cookie value that stores `session` in the browser.
  static std::string cookie(const Session& session);
  // Returns the Set-Cookie value that removes the session cookie.
  static std::string expired_cookie();

 private:
  struct Entry {
    Session session;
    std::int64_t last_used = 0;  // Unix s
  };
  void drop_least_recently_used();

  const core::Clock& clock_;
  SessionOptions options_;
  std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> sessions_;
};

// Returns the value of cookie `name` in a Cookie header ("a=1; b=2"), or nullopt.
std::optional<std::string_view> find_cookie(std::string_view cookie_header, std::string_view name);

}  // namespace wik::emulator
