#include "emulator/state/state_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "core/base64url.h"

namespace wik::emulator {
namespace json = boost::json;
namespace {

json::array to_array(const std::vector<std::string>& texts) { return json::array(texts.begin(), texts.end()); }

json::value optional_to_json(const std::optional<Id>& id) { return id ? json::value(*id) : json::value(nullptr); }

// Reads typed members out of the document and remembers the first thing that is wrong, with the
// place it was found ("users[2].email"), so decoding reads straight through and reports once.
class Decoder {
 public:
  bool failed() const noexcept { return error_.has_value(); }
  const std::string& error() const { return *error_; }

  void fail(const std::string& where, std::string_view what) {
    if (!error_) error_ = where + ": " + std::string(what);
  }

  const json::value* member(const json::object& object, std::string_view key, const std::string& where) {
    const json::value* found = object.if_contains(key);
    if (found == nullptr) fail(where + "." + std::string(key), "missing");
    return found;
  }

  std::string text(const json::object& object, std::string_view key, const std::string& where) {
    const json::value* found = member(object, key, where);
    if (found == nullptr) return {};
    if (!found->is_string()) {
      fail(where + "." + std::string(key), "expected a string");
      return {};
    }
    return std::string(found->get_string());
  }

  std::optional<std::string> optional_text(const json::object& object, std::string_view key, const std::string& where) {
    const json::value* found = object.if_contains(key);
    if (found == nullptr || found->is_null()) return std::nullopt;
    if (!found->is_string()) {
      fail(where + "." + std::string(key), "expected a string or null");
      return std::nullopt;
    }
    return std::string(found->get_string());
  }

  std::int64_t integer(const json::object& object, std::string_view key, const std::string& where) {
    const json::value* found = member(object, key, where);
    if (found == nullptr) return 0;
    if (found->is_int64()) return found->get_int64();
    if (found->is_uint64() && found->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
      return static_cast<std::int64_t>(found->get_uint64());
    }
    fail(where + "." + std::string(key), "expected an integer");
    return 0;
  }

  bool flag(const json::object& object, std::string_view key, const std::string& where) {
    const json::value* found = member(object, key, where);
    if (found == nullptr) return false;
    if (!found->is_bool()) {
      fail(where + "." + std::string(key), "expected true or false");
      return false;
    }
    return found->get_bool();
  }

  std::vector<std::string> texts(const json::object& object, std::string_view key, const std::string& where) {
    std::vector<std::string> values;
    const json::array& items = array(object, key, where);
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string()) {
        fail(where + "." + std::string(key) + "[" + std::to_string(i) + "]", "expected a string");
        return {};
      }
      values.emplace_back(items[i].get_string());
    }
    return values;
  }

  const json::array& array(const json::object& object, std::string_view key, const std::string& where) {
    static const json::array kEmpty;
    const json::value* found = member(object, key, where);
    if (found == nullptr) return kEmpty;
    if (!found->is_array()) {
      fail(where + "." + std::string(key), "expected an array");
      return kEmpty;
    }
    return found->get_array();
  }

  const json::object& object(const json::value& value, const std::string& where) {
    static const json::object kEmpty;
    if (!value.is_object()) {
      fail(where, "expected an object");
      return kEmpty;
    }
    return value.get_object();
  }

  // Calls `decode(object, where)` for each element of the array `key` of `document`.
  template <class Decode>
  void each(const json::object& document, std::string_view key, Decode decode) {
    const json::array& items = array(document, key, "state");
    for (std::size_t i = 0; i < items.size() && !failed(); ++i) {
      const std::string where = std::string(key) + "[" + std::to_string(i) + "]";
      decode(object(items[i], where), where);
    }
  }

  // Stores `value` under `key` in `map`, failing on a repeated key.
  template <class Map, class Key, class Value>
  void insert_unique(Map& map, Key key, Value value, const std::string& where) {
    if (!map.emplace(std::move(key), std::move(value)).second) fail(where, "repeats an id already used");
  }

 private:
  std::optional<std::string> error_;
};

json::object encode_app(const App& app) {
  return {{"id", app.id},
          {"secret", app.secret},
          {"name", app.name},
          {"publisher", app.publisher},
          {"tagline", app.tagline},
          {"icon_png_base64url", core::base64url_encode(app.icon_png)},
          {"redirect_url", app.redirect_url},
          {"deauthorize_url", app.deauthorize_url},
          {"permissions", to_array(app.permissions)}};
}

json::object encode_code(const AuthorizationCode& code) {
  return {{"code", code.code},
          {"app_id", code.app_id},
          {"community_id", code.community_id},
          {"admin_id", code.admin_id},
          {"redirect_uri", code.redirect_uri},
          {"permissions", to_array(code.permissions)},
          {"issued_at", code.issued_at},
          {"used", code.used}};
}

void decode_apps(Decoder& d, const json::object& document, StateSnapshot& s) {
  d.each(document, "apps", [&](const json::object& o, const std::string& w) {
    App app;
    app.id = d.text(o, "id", w);
    app.secret = d.text(o, "secret", w);
    app.name = d.text(o, "name", w);
    app.publisher = d.text(o, "publisher", w);
    app.tagline = d.text(o, "tagline", w);
    auto icon = core::base64url_decode(d.text(o, "icon_png_base64url", w));
    if (!icon) {
      d.fail(w + ".icon_png_base64url", "not base64url");
    } else {
      app.icon_png = std::move(icon).value();
    }
    app.redirect_url = d.text(o, "redirect_url", w);
    app.deauthorize_url = d.text(o, "deauthorize_url", w);
    app.permissions = d.texts(o, "permissions", w);
    d.insert_unique(s.apps, app.id, app, w + ".id");
  });
}

void decode_platform(Decoder& d, const json::object& document, StateSnapshot& s) {
  d.each(document, "communities", [&](const json::object& o, const std::string& w) {
    Community community{d.text(o, "id", w), d.text(o, "name", w)};
    d.insert_unique(s.communities, community.id, community, w + ".id");
  });
  d.each(document, "users", [&](const json::object& o, const std::string& w) {
    User user;
    user.id = d.text(o, "id", w);
    user.community_id = d.text(o, "community_id", w);
    user.name = d.text(o, "name", w);
    user.email = d.text(o, "email", w);
    user.locale = d.text(o, "locale", w);
    user.title = d.text(o, "title", w);
    user.system_admin = d.flag(o, "system_admin", w);
    user.active = d.flag(o, "active", w);
    if (!d.failed() && !s.communities.contains(user.community_id)) d.fail(w + ".community_id", "no such community");
    d.insert_unique(s.users, user.id, user, w + ".id");
  });
  d.each(document, "groups", [&](const json::object& o, const std::string& w) {
    Group group;
    group.id = d.text(o, "id", w);
    group.community_id = d.text(o, "community_id", w);
    group.name = d.text(o, "name", w);
    group.privacy = d.text(o, "privacy", w);
    group.members = d.texts(o, "members", w);
    if (!d.failed() && !s.communities.contains(group.community_id)) d.fail(w + ".community_id", "no such community");
    d.insert_unique(s.groups, group.id, group, w + ".id");
  });
}

void decode_installs(Decoder& d, const json::object& document, StateSnapshot& s) {
  d.each(document, "installs", [&](const json::object& o, const std::string& w) {
    Install install;
    install.id = d.text(o, "id", w);
    install.community_id = d.text(o, "community_id", w);
    install.app_id = d.text(o, "app_id", w);
    install.page_id = d.text(o, "page_id", w);
    install.access_token = d.text(o, "access_token", w);
    install.permissions = d.texts(o, "permissions", w);
    install.install_type = d.text(o, "install_type", w);
    install.installed_by = d.text(o, "installed_by", w);
    install.installed_at = d.integer(o, "installed_at", w);
    d.insert_unique(s.installs, install.id, install, w + ".id");
  });
  d.each(document, "codes", [&](const json::object& o, const std::string& w) {
    AuthorizationCode code;
    code.code = d.text(o, "code", w);
    code.app_id = d.text(o, "app_id", w);
    code.community_id = d.text(o, "community_id", w);
    code.admin_id = d.text(o, "admin_id", w);
    code.redirect_uri = d.text(o, "redirect_uri", w);
    code.permissions = d.texts(o, "permissions", w);
    code.issued_at = d.integer(o, "issued_at", w);
    code.used = d.flag(o, "used", w);
    d.insert_unique(s.codes, code.code, code, w + ".code");
  });
  d.each(document, "subscriptions", [&](const json::object& o, const std::string& w) {
    Subscription subscription;
    const Id app_id = d.text(o, "app_id", w);
    subscription.object = d.text(o, "object", w);
    subscription.callback_url = d.text(o, "callback_url", w);
    subscription.verify_token = d.text(o, "verify_token", w);
    const std::vector<std::string> fields = d.texts(o, "fields", w);
    subscription.fields.insert(fields.begin(), fields.end());
    d.insert_unique(s.subscriptions[app_id], subscription.object, subscription, w + ".object");
  });
  d.each(document, "scoped_ids", [&](const json::object& o, const std::string& w) {
    d.insert_unique(s.scoped_ids, std::pair(d.text(o, "app_id", w), d.text(o, "user_id", w)), d.text(o, "scoped_id", w),
                    w + ".user_id");
  });
  d.each(document, "bot_pages", [&](const json::object& o, const std::string& w) {
    d.insert_unique(s.bot_pages, std::pair(d.text(o, "app_id", w), d.text(o, "community_id", w)),
                    d.text(o, "page_id", w), w + ".community_id");
  });
}

void decode_conversations(Decoder& d, const json::object& document, StateSnapshot& s) {
  d.each(document, "threads", [&](const json::object& o, const std::string& w) {
    Thread thread;
    thread.id = d.text(o, "id", w);
    thread.community_id = d.text(o, "community_id", w);
    thread.name = d.text(o, "name", w);
    thread.participants = d.texts(o, "participants", w);
    thread.page_id = d.optional_text(o, "page_id", w);
    thread.group = d.flag(o, "group", w);
    d.insert_unique(s.threads, thread.id, thread, w + ".id");
  });
  d.each(document, "messages", [&](const json::object& o, const std::string& w) {
    ChatMessage message;
    message.mid = d.text(o, "mid", w);
    message.thread_id = d.text(o, "thread_id", w);
    message.from = d.text(o, "from", w);
    message.from_bot = d.flag(o, "from_bot", w);
    message.sent_at_ms = d.integer(o, "sent_at_ms", w);
    if (const json::value* body = d.member(o, "message", w)) message.message = *body;
    if (!d.failed() && !s.threads.contains(message.thread_id)) d.fail(w + ".thread_id", "no such thread");
    s.messages.push_back(std::move(message));
  });
  d.each(document, "posts", [&](const json::object& o, const std::string& w) {
    Post post;
    post.id = d.text(o, "id", w);
    post.group_id = d.text(o, "group_id", w);
    post.from = d.text(o, "from", w);
    post.from_bot = d.flag(o, "from_bot", w);
    post.message = d.text(o, "message", w);
    post.created_at = d.integer(o, "created_at", w);
    if (!d.failed() && !s.groups.contains(post.group_id)) d.fail(w + ".group_id", "no such group");
    d.insert_unique(s.posts, post.id, post, w + ".id");
  });
  d.each(document, "comments", [&](const json::object& o, const std::string& w) {
    Comment comment;
    comment.id = d.text(o, "id", w);
    comment.post_id = d.text(o, "post_id", w);
    comment.parent_id = d.optional_text(o, "parent_id", w);
    comment.from = d.text(o, "from", w);
    comment.from_bot = d.flag(o, "from_bot", w);
    comment.message = d.text(o, "message", w);
    comment.created_at = d.integer(o, "created_at", w);
    if (!d.failed() && !s.posts.contains(comment.post_id)) d.fail(w + ".post_id", "no such post");
    d.insert_unique(s.comments, comment.id, comment, w + ".id");
  });
  d.each(document, "messenger_profiles", [&](const json::object& o, const std::string& w) {
    const Id install_id = d.text(o, "install_id", w);
    if (const json::value* profile = d.member(o, "profile", w)) {
      d.insert_unique(s.messenger_profiles, install_id, d.object(*profile, w + ".profile"), w + ".install_id");
    }
  });
}

Error io_error(std::string_view what, const std::filesystem::path& path, int error_number) {
  return Error(ErrorCode::kUnavailable,
               std::string(what) + " the state file " + path.string() + ": " + std::strerror(error_number));
}

}  // namespace

json::object encode_user(const User& user) {
  return {{"id", user.id},         {"community_id", user.community_id}, {"name", user.name},
          {"email", user.email},   {"locale", user.locale},             {"title", user.title},
          {"system_admin", user.system_admin}, {"active", user.active}};
}

json::object encode_install(const Install& install) {
  return {{"id", install.id},
          {"community_id", install.community_id},
          {"app_id", install.app_id},
          {"page_id", install.page_id},
          {"access_token", install.access_token},
          {"permissions", to_array(install.permissions)},
          {"install_type", install.install_type},
          {"installed_by", install.installed_by},
          {"installed_at", install.installed_at}};
}

json::object encode_thread(const Thread& thread) {
  return {{"id", thread.id},
          {"community_id", thread.community_id},
          {"name", thread.name},
          {"participants", to_array(thread.participants)},
          {"page_id", optional_to_json(thread.page_id)},
          {"group", thread.group}};
}

json::object encode_message(const ChatMessage& message) {
  return {{"mid", message.mid},
          {"thread_id", message.thread_id},
          {"from", message.from},
          {"from_bot", message.from_bot},
          {"sent_at_ms", message.sent_at_ms},
          {"message", message.message}};
}

json::object encode_post(const Post& post) {
  return {{"id", post.id},           {"group_id", post.group_id}, {"from", post.from},
          {"from_bot", post.from_bot}, {"message", post.message},   {"created_at", post.created_at}};
}

json::object encode_comment(const Comment& comment) {
  return {{"id", comment.id},
          {"post_id", comment.post_id},
          {"parent_id", optional_to_json(comment.parent_id)},
          {"from", comment.from},
          {"from_bot", comment.from_bot},
          {"message", comment.message},
          {"created_at", comment.created_at}};
}

json::value encode_state(const StateSnapshot& s) {
  json::object document;
  document["format"] = kStateFormat;
  document["version"] = kStateFormatVersion;
  document["next_id"] = s.next_id;
  json::array communities;
  for (const auto& [id, community] : s.communities) communities.push_back(json::object{{"id", id}, {"name", community.name}});
  document["communities"] = std::move(communities);
  json::array users;
  for (const auto& [id, user] : s.users) users.push_back(encode_user(user));
  document["users"] = std::move(users);
  json::array groups;
  for (const auto& [id, group] : s.groups) {
    groups.push_back(json::object{{"id", id},
                                  {"community_id", group.community_id},
                                  {"name", group.name},
                                  {"privacy", group.privacy},
                                  {"members", to_array(group.members)}});
  }
  document["groups"] = std::move(groups);
  json::array apps;
  for (const auto& [id, app] : s.apps) apps.push_back(encode_app(app));
  document["apps"] = std::move(apps);
  json::array installs;
  for (const auto& [id, install] : s.installs) installs.push_back(encode_install(install));
  document["installs"] = std::move(installs);
  json::array codes;
  for (const auto& [code, issued] : s.codes) codes.push_back(encode_code(issued));
  document["codes"] = std::move(codes);
  json::array subscriptions;
  for (const auto& [app_id, objects] : s.subscriptions) {
    for (const auto& [object, subscription] : objects) {
      subscriptions.push_back(json::object{{"app_id", app_id},
                                           {"object", object},
                                           {"callback_url", subscription.callback_url},
                                           {"verify_token", subscription.verify_token},
                                           {"fields", json::array(subscription.fields.begin(), subscription.fields.end())}});
    }
  }
  document["subscriptions"] = std::move(subscriptions);
  json::array scoped_ids;
  for (const auto& [key, scoped] : s.scoped_ids) {
    scoped_ids.push_back(json::object{{"app_id", key.first}, {"user_id", key.second}, {"scoped_id", scoped}});
  }
  document["scoped_ids"] = std::move(scoped_ids);
  json::array bot_pages;
  for (const auto& [key, page] : s.bot_pages) {
    bot_pages.push_back(json::object{{"app_id", key.first}, {"community_id", key.second}, {"page_id", page}});
  }
  document["bot_pages"] = std::move(bot_pages);
  json::array threads;
  for (const auto& [id, thread] : s.threads) threads.push_back(encode_thread(thread));
  document["threads"] = std::move(threads);
  json::array messages;
  for (const ChatMessage& message : s.messages) messages.push_back(encode_message(message));
  document["messages"] = std::move(messages);
  json::array posts;
  for (const auto& [id, post] : s.posts) posts.push_back(encode_post(post));
  document["posts"] = std::move(posts);
  json::array comments;
  for (const auto& [id, comment] : s.comments) comments.push_back(encode_comment(comment));
  document["comments"] = std::move(comments);
  json::array profiles;
  for (const auto& [install_id, profile] : s.messenger_profiles) {
    profiles.push_back(json::object{{"install_id", install_id}, {"profile", profile}});
  }
  document["messenger_profiles"] = std::move(profiles);
  return document;
}

Result<StateSnapshot> decode_state(const json::value& value) {
  Decoder d;
  const json::object& document = d.object(value, "state");
  if (d.failed()) return Error(ErrorCode::kMalformed, d.error());
  if (d.text(document, "format", "state") != kStateFormat) {
    return Error(ErrorCode::kMalformed, "state.format: not \"" + std::string(kStateFormat) + "\"");
  }
  if (const std::int64_t version = d.integer(document, "version", "state"); version != kStateFormatVersion) {
    return Error(ErrorCode::kMalformed, "state.version: " + std::to_string(version) + " is not the supported version " +
                                            std::to_string(kStateFormatVersion));
  }
  StateSnapshot s;
  const std::int64_t next_id = d.integer(document, "next_id", "state");
  if (next_id < 1) d.fail("state.next_id", "must be a positive integer");
  s.next_id = static_cast<std::uint64_t>(next_id);
  decode_platform(d, document, s);
  decode_apps(d, document, s);
  decode_installs(d, document, s);
  decode_conversations(d, document, s);
  if (d.failed()) return Error(ErrorCode::kMalformed, d.error());
  return s;
}

Result<StateSnapshot> read_state_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error_number = errno;
    if (error_number == ENOENT) return Error(ErrorCode::kNotFound, "no state file at " + path.string());
    return io_error("cannot open", path, error_number);
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return io_error("cannot read", path, errno);
  boost::system::error_code ec;
  const json::value document = json::parse(text, ec);
  if (ec) return Error(ErrorCode::kMalformed, "the state file " + path.string() + " is not JSON: " + ec.message());
  auto decoded = decode_state(document);
  if (!decoded) return decoded.error().with_context("the state file " + path.string());
  return decoded;
}

Result<void> write_state_file(const std::filesystem::path& path, const json::value& document) {
  const std::string text = json::serialize(document);
  std::string temporary = path.string() + ".XXXXXX";
  const int fd = ::mkostemp(temporary.data(), O_CLOEXEC);  // creates the file with mode 0600
  if (fd < 0) return io_error("cannot create a temporary file beside", path, errno);
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  const bool complete = written == text.size() && ::fchmod(fd, 0600) == 0 && ::fsync(fd) == 0;
  const int write_errno = errno;
  ::close(fd);
  if (!complete || ::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error_number = complete ? errno : write_errno;
    ::unlink(temporary.c_str());
    return io_error("cannot write", path, error_number);
  }
  // Make the rename itself durable.
  const std::filesystem::path directory = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return ok_result();
}

}  // namespace wik::emulator
