// The emulator's state file: the whole platform state as one JSON document, and the safe way to
// read and write it.
//
// StateSnapshot is the persisted part of PlatformState (everything except derived look-up indexes).
// encode_state/decode_state convert it to and from JSON; the document carries a format name and a
// version number, and decode_state refuses anything it does not fully understand with kMalformed
// and a reason naming the offending field ("users.100000000000002.email: expected a string").
//
// write_state_file replaces the file atomically: a temporary file beside it (mode 0600) is written,
// fsync'ed and renamed over the old one, so a crash leaves either the old or the new state, never half
// of one. read_state_file never modifies the file it reads. Pure functions; thread-compatible.
#pragma once

#include <wik/result.h>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>

#include "emulator/state/platform_state.h"

namespace wik::emulator {

inline constexpr std::string_view kStateFormat = "wik-emulator-state";
inline constexpr std::int64_t kStateFormatVersion = 1;

struct StateSnapshot {
  std::uint64_t next_id = 1;  // the next number minted for any object id
  std::map<Id, Community> communities;
  std::map<Id, User> users;
  std::map<Id, Group> groups;
  std::map<Id, App> apps;
  std::map<Id, Install> installs;                        // by install id
  std::map<std::string, AuthorizationCode> codes;        // by code
  std::map<Id, std::map<std::string, Subscription>> subscriptions;  // app id → object → subscription
  std::map<std::pair<Id, Id>, Id> scoped_ids;            // (app id, platform user id) → app-scoped id
  std::map<std::pair<Id, Id>, Id> bot_pages;             // (app id, community id) → page id, kept across reinstalls
  std::map<Id, Thread> threads;
  std::vector<ChatMessage> messages;                     // every chat message, oldest first
  std::map<Id, Post> posts;
  std::map<Id, Comment> comments;
  std::map<Id, boost::json::object> messenger_profiles;  // by install id
};

// The JSON of one object as the state file keeps it; the control API shows the same.
boost::json::object encode_user(const User& user);
boost::json::object encode_install(const Install& install);
boost::json::object encode_thread(const Thread& thread);
boost::json::object encode_message(const ChatMessage& message);
boost::json::object encode_post(const Post& post);
boost::json::object encode_comment(const Comment& comment);

// Returns the JSON document of `snapshot`.
boost::json::value encode_state(const StateSnapshot& snapshot);

// Returns the snapshot `document` holds, or kMalformed naming the first field that is wrong.
Result<StateSnapshot> decode_state(const boost::json::value& document);

// Returns the parsed contents of the state file: kNotFound when it does not exist, kMalformed when it
// is not valid JSON or not a state document, kUnavailable when it cannot be read.
Result<StateSnapshot> read_state_file(const std::filesystem::path& path);

// Atomically replaces `path` with `document` (mode 0600). kUnavailable on any I/O failure, in
// which case the previous file is untouched.
Result<void> write_state_file(const std::filesystem::path& path, const boost::json::value& document);

}  // namespace wik::emulator
