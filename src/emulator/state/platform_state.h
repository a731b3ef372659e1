// PlatformState: everything the emulated Workplace platform knows, in memory, behind one mutex.
//
// Communities, people, groups, the apps registered with the platform, installs (one access token
// each), OAuth codes, webhook subscriptions, app-scoped user ids, Work Chat threads and messages,
// group posts and comments, and each install's messenger profile. Every operation is synchronous,
// short and thread-safe (one mutex; never held across a co_await, so coroutine handlers call it
// directly). Expected failures are wik::Error values; the Graph layer turns them into the platform's
// error bodies (graph_api/graph_error.h), so the codes used here are documented per function.
//
// Ids follow PROTOCOL.md: decimal strings, unique across every kind of object of one emulator.
// Users have one platform id (what the emulator's own pages use) and one app-scoped id per app
// (PROTOCOL.md §4.4): minted on first use, stable, persisted. Graph reads and webhooks show only
// app-scoped ids; `resolve_scoped_user` maps them back.
//
// Persistence: when constructed with a state file, the state is loaded from it (or seeded when it
// does not exist) and written back atomically (temporary file, fsync, rename; mode 0600) after each
// change, at most every `save_interval`, and on destruction. OAuth codes, chat history, posts and
// subscriptions persist with the rest; nothing is kept only in memory but the save timer.
#pragma once

#include <wik/result.h>

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"

namespace wik::emulator {

using Id = std::string;  // decimal text, as on the platform

struct Community {
  Id id;
  std::string name;
};

struct User {
  Id id;  // platform id (never shown to apps)
  Id community_id;
  std::string name;
  std::string email;
  std::string locale;  // e.g. "en_US", "fr_CA", "ja_JP"
  std::string title;
  bool system_admin = false;
  bool active = true;
};

struct Group {
  Id id;
  Id community_id;
  std::string name;
  std::string privacy = "OPEN";  // OPEN | CLOSED | SECRET
  std::vector<Id> members;       // platform user ids
};

// An app as registered with the platform (PROTOCOL.md §1.1), loaded from its manifest plus secret.
struct App {
  Id id;
  std::string secret;
  std::string name;
  std::string publisher;
  std::string tagline;
  std::string icon_png;  // raw PNG bytes; may be empty (pages then draw a placeholder)
  std::string redirect_url;
  std::string deauthorize_url;
  std::vector<std::string> permissions;  // lower-case codes (PROTOCOL.md §8), as requested
};

// One community × app install (PROTOCOL.md §1.6): one token, one bot page.
struct Install {
  Id id;
  Id community_id;
  Id app_id;
  Id page_id;                            // the bot page: GET /me answers it, chat webhooks' recipient
  std::string access_token;              // dies (removed) on uninstall or reinstall
  std::vector<std::string> permissions;  // granted, lower-case codes
  std::string install_type = "COMMUNITY";
  Id installed_by;                       // platform user id of the system administrator
  std::int64_t installed_at = 0;         // Unix s
};

// A code minted by the install dialog (PROTOCOL.md §1.4): 300 s, single use, bound to the app and
// the redirect URI it was issued for.
struct AuthorizationCode {
  std::string code;
  Id app_id;
  Id community_id;
  Id admin_id;
  std::string redirect_uri;
  std::vector<std::string> permissions;
  std::int64_t issued_at = 0;
  bool used = false;
};

// One object's subscription of an app (PROTOCOL.md §7): one callback URL per object.
struct Subscription {
  std::string object;  // page | group | user | link | workplace_security
  std::string callback_url;
  std::string verify_token;
  std::set<std::string> fields;
};

// A Work Chat conversation: 1:1 (a person and a bot) or a group thread ("t_…" key).
struct Thread {
  Id id;  // the thread key without the "t_" prefix
  Id community_id;
  std::string name;
  std::vector<Id> participants;  // platform user ids
  std::optional<Id> page_id;     // the bot in this thread, if any
  bool group = false;            // created by `recipient.ids` or with several people
};

// A chat message. Sent by a person (`from` = platform user id) or a bot (`from` = page id).
struct ChatMessage {
  std::string mid;  // "m_…"
  Id thread_id;
  Id from;
  bool from_bot = false;
  std::int64_t sent_at_ms = 0;
  // What the Send API accepted, verbatim (text, quick_replies, attachment…), or {"text": …} for a
  // person's message; `quick_reply_payload`/`postback_payload` record what a person pressed.
  boost::json::value message;
};

struct Post {
  Id id;  // "{group_id}_{n}"
  Id group_id;
  Id from;  // platform user id, or a page id when posted by a bot
  bool from_bot = false;
  std::string message;
  std::int64_t created_at = 0;
};

struct Comment {
  Id id;  // "{post_n}_{n}"
  Id post_id;
  std::optional<Id> parent_id;  // one level of nesting
  Id from;
  bool from_bot = false;
  std::string message;
  std::int64_t created_at = 0;
};

struct PlatformOptions {
  // Where the state is persisted; empty: memory only (tests).
  std::filesystem::path state_file;
  // The longest a change waits before it is written to the state file.
  std::chrono::milliseconds save_interval = std::chrono::milliseconds(200);
  // Lifetime of an OAuth code (PROTOCOL.md §1.4).
  std::chrono::seconds code_lifetime = std::chrono::seconds(300);
};

class PlatformState {
 public:
  // Loads the state file, or seeds a new platform (one community "Acme Corp" with a system
  // administrator, users in en_US, fr_CA, de_DE, ja_JP and pt_BR, two groups) when it does not exist.
  // Returns kMalformed for an unreadable state file (never overwriting it).
  static Result<std::unique_ptr<PlatformState>> open(PlatformOptions options, const core::Clock& clock);
  ~PlatformState();

  const core::Clock& clock() const noexcept { return clock_; }

  // --- communities, people, groups (control API and pages) -------------------------------------
  Result<Community> create_community(std::string name);
  Result<User> create_user(const Id& community_id, User fields);  // fields.id ignored; kNotFound community
  Result<Group> create_group(const Id& community_id, std::string name, std::vector<Id> members);
  std::vector<Community> communities() const;
  std::optional<Community> community(const Id& id) const;
  std::vector<User> users(const Id& community_id) const;
  std::optional<User> user(const Id& platform_user_id) const;
  std::optional<User> user_by_email(const std::string& email) const;
  std::vector<Group> groups(const Id& community_id) const;
  std::optional<Group> group(const Id& id) const;
  // Adds a person to a group; a no-op for a member. kNotFound for an unknown group or person,
  // kPermissionDenied for a person of another community.
  Result<Group> add_group_member(const Id& group_id, const Id& platform_user_id);

  // --- apps and app-scoped ids ------------------------------------------------------------------
  // Registers or replaces an app (same id). kInvalidArgument for a missing id, secret or name.
  Result<void> register_app(App app);
  std::vector<App> apps() const;
  std::optional<App> app(const Id& app_id) const;
  // Returns the app-scoped id of a person for an app, minting it on first use.
  Id scoped_user_id(const Id& app_id, const Id& platform_user_id);
  // Returns the platform user id behind an app-scoped id of `app_id`, or nullopt.
  std::optional<Id> resolve_scoped_user(const Id& app_id, const Id& scoped_id) const;

  // --- install dialog, codes, tokens --------------------------------------------------------------
  // Mints a code for an admin's Install press. kPermissionDenied unless `admin_id` is an active
  // system administrator; kNotFound for an unknown app; kInvalidArgument when `redirect_uri` is
  // not the app's registered Redirect URL or a permission is not one the app requested.
  Result<AuthorizationCode> issue_code(const Id& app_id, const Id& admin_id, std::string redirect_uri,
                                       std::vector<std::string> permissions);
  // Exchanges a code for the install's token (PROTOCOL.md §2.3), creating or replacing the install;
  // a replaced install's old token stops working. Errors, in this order of checks:
  // kNotFound (unknown app id), kBadSignature (wrong secret), kMalformed (unknown code),
  // kConflict (code already used), kExpired (code older than code_lifetime),
  // kInvalidArgument (redirect_uri differs from the one the code was issued for).
  Result<Install> exchange_code(const Id& app_id, const std::string& app_secret, const std::string& code,
                                const std::string& redirect_uri);
  // Installs without the browser (control API), as `admin_id` would with every requested permission.
  Result<Install> install_directly(const Id& app_id, const Id& admin_id);
  // Removes an install; its token stops working at once. Returns the removed install (the caller
  // sends the deauthorization POST). kNotFound when the app is not installed there.
  Result<Install> uninstall(const Id& app_id, const Id& community_id);
  std::optional<Install> install_by_token(const std::string& access_token) const;
  std::optional<Install> install_of(const Id& app_id, const Id& community_id) const;
  std::optional<Install> install_by_page(const Id& page_id) const;
  std::vector<Install> installs(const Id& community_id) const;
  std::vector<Install> installs_of_app(const Id& app_id) const;

  // --- subscriptions (PROTOCOL.md §7) -------------------------------------------------------------
  // Creates or updates an object's subscription: callback and verify token replaced, fields merged.
  void subscribe(const Id& app_id, Subscription subscription);
  // Removes `fields` of an object (all of them when empty), or every object when `object` is empty.
  void unsubscribe(const Id& app_id, const std::string& object, const std::set<std::string>& fields);
  std::vector<Subscription> subscriptions(const Id& app_id) const;

  // --- Work Chat ----------------------------------------------------------------------------------
  // Returns the 1:1 thread of a person and a bot, creating it on first use.
  Thread direct_thread(const Id& platform_user_id, const Id& page_id);
  // Creates a group thread of people and a bot (Send API `recipient.ids`).
  Result<Thread> create_group_thread(const Id& page_id, std::vector<Id> platform_user_ids);
  std::optional<Thread> thread(const Id& thread_id) const;
  std::vector<Thread> threads_of_user(const Id& platform_user_id) const;
  Result<ChatMessage> add_message(const Id& thread_id, const Id& from, bool from_bot, boost::json::value message);
  std::vector<ChatMessage> messages(const Id& thread_id) const;
  // Every message any bot sent (for the control API), oldest first, optionally of one app only.
  std::vector<ChatMessage> bot_messages(const std::optional<Id>& app_id) const;

  // --- groups feed --------------------------------------------------------------------------------
  Result<Post> add_post(const Id& group_id, const Id& from, bool from_bot, std::string message);
  Result<Comment> add_comment(const Id& object_id, const Id& from, bool from_bot, std::string message);
  std::optional<Post> post(const Id& post_id) const;
  std::optional<Comment> comment(const Id& comment_id) const;
  std::vector<Post> feed(const Id& group_id) const;  // newest first
  std::vector<Comment> comments(const Id& object_id) const;

  // --- messenger profile (PROTOCOL.md §9.3) -------------------------------------------------------
  // Merges the given top-level fields into the install's profile.
  void set_messenger_profile(const Id& install_id, const boost::json::object& fields);
  boost::json::object messenger_profile(const Id& install_id) const;
  void delete_messenger_profile_fields(const Id& install_id, const std::vector<std::string>& fields);

  // Writes the state file now (also done after changes, see above). kUnavailable on I/O failure.
  Result<void> save();

 private:
  PlatformState(PlatformOptions options, const core::Clock& clock);
  class Data;
  PlatformOptions options_;
  const core::Clock& clock_;
  mutable std::mutex mutex_;
  std::unique_ptr<Data> data_;
};

}  // namespace wik::emulator
