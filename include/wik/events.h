// The platform events an integration handles, as plain values decoded from webhook payloads
// (PROTOCOL.md §6.5). Every id is the platform's decimal text; user ids are app-scoped. Each event
// names the community it came from; handlers get a Context bound to that community only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace wik {

// A person wrote to the bot in Work Chat (page/messages), or pressed one of its quick replies.
struct Message {
  std::string community_id;
  std::string sender_id;                   // the person, app-scoped
  std::string page_id;                     // the bot
  std::optional<std::string> thread_key;   // set in a group chat: replies go to the thread
  std::string mid;
  std::string text;
  std::optional<std::string> quick_reply_payload;  // set when a quick reply was pressed
  std::int64_t timestamp_ms = 0;
};

// A person pressed a postback button or Get Started (page/messaging_postbacks).
struct Postback {
  std::string community_id;
  std::string sender_id;
  std::string page_id;
  std::optional<std::string> thread_key;
  std::string title;
  std::string payload;
  std::int64_t timestamp_ms = 0;
};

// The bot was @-mentioned in a group post or comment (page/mention).
struct Mention {
  std::string community_id;
  std::string from_id;
  std::string from_name;
  std::string message;
  std::string post_id;
  std::optional<std::string> comment_id;  // set when the mention is in a comment
  std::string permalink_url;
};

// A post was added, edited or deleted in a group the install reaches (group/posts).
struct GroupPost {
  std::string community_id;
  std::string group_id;
  std::string post_id;
  std::string from_id;
  std::string from_name;
  std::string message;
  std::string verb;  // add | edit | remove
  std::string permalink_url;
};

// A comment was added, edited or deleted (group/comments).
struct Comment {
  std::string community_id;
  std::string post_id;
  std::string comment_id;
  std::string from_id;
  std::string from_name;
  std::string message;
  std::string verb;
};

// The app was installed (or reinstalled) into a community, by an admin account of the vendor.
struct Install {
  std::string community_id;
  std::string community_name;
};

// The community's admin uninstalled the app: the install is revoked (no Graph call can be made
// as the community any more) and its data is being purged; the handler runs once per uninstall.
struct Uninstall {
  std::string community_id;
};

}  // namespace wik
