#include "emulator/state/platform_state.h"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <thread>
#include <utility>

#include "core/constant_time.h"
#include "core/secure_random.h"
#include "emulator/state/state_file.h"

namespace wik::emulator {
namespace {

// Bounds on what people and the control API may store (hostile input must not grow the state
// without limit). Longer values are refused with kInvalidArgument.
constexpr std::size_t kMaxNameBytes = 200;
constexpr std::size_t kMaxEmailBytes = 254;
constexpr std::size_t kMaxShortFieldBytes = 100;    // locale, title, privacy
constexpr std::size_t kMaxPostBytes = 63206;        // Facebook's post length limit
constexpr std::size_t kMaxThreadParticipants = 250;
constexpr std::size_t kMaxAppFieldBytes = 2048;     // URLs, tagline, publisher
constexpr std::size_t kMaxIconBytes = 5 * 1024 * 1024;
// Used and expired codes are remembered this many lifetimes, so a late replay still gets the
// precise error (kConflict/kExpired) instead of "unknown code".
constexpr int kCodeMemoryLifetimes = 12;

// The first object number of a new platform: ids look like the platform's 15-digit ids.
constexpr std::uint64_t kFirstId = 100000000000001;

Error too_long(std::string_view field, std::size_t limit) {
  return Error(ErrorCode::kInvalidArgument, std::string(field) + " is longer than " + std::to_string(limit) + " bytes");
}

Result<void> check_text(std::string_view field, const std::string& value, std::size_t limit, bool required) {
  if (required && value.empty()) return Error(ErrorCode::kInvalidArgument, std::string(field) + " is required");
  if (value.size() > limit) return too_long(field, limit);
  return ok_result();
}

std::int64_t unix_ms(const core::Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch()).count();
}

bool contains(const std::vector<Id>& ids, const Id& id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

// The number after the last '_' of a post or comment id ("{group_id}_{n}" → "n").
std::string post_number(const Id& id) {
  const auto underscore = id.rfind('_');
  return underscore == std::string::npos ? id : id.substr(underscore + 1);
}

// The minted number at the end of a post or comment id; they increase in creation order.
std::uint64_t creation_order(const Id& id) {
  const std::string number = post_number(id);
  std::uint64_t value = 0;
  std::from_chars(number.data(), number.data() + number.size(), value);
  return value;
}

// The seed of a new platform. Ids are minted in this order, so they are the same on every first
// start (docs/emulator.md lists them).
void seed(StateSnapshot& s) {
  const auto mint = [&s] { return std::to_string(s.next_id++); };
  const Community acme{mint(), "Acme Corp"};
  s.communities[acme.id] = acme;
  struct Person {
    const char* name;
    const char* email;
    const char* locale;
    const char* title;
    bool admin;
  };
  const Person people[] = {
      {"Ada Admin", "ada@acme.example", "en_US", "IT Administrator", true},
      {"Bruno Costa", "bruno@acme.example", "pt_BR", "Sales Manager", false},
      {"Chloé Tremblay", "chloe@acme.example", "fr_CA", "Support Agent", false},
      {"Dieter Müller", "dieter@acme.example", "de_DE", "Engineer", false},
      {"田中 恵美", "emi@acme.example", "ja_JP", "Designer", false},
  };
  std::vector<Id> everyone;
  for (const Person& person : people) {
    User user;
    user.id = mint();
    user.community_id = acme.id;
    user.name = person.name;
    user.email = person.email;
    user.locale = person.locale;
    user.title = person.title;
    user.system_admin = person.admin;
    s.users[user.id] = user;
    everyone.push_back(user.id);
  }
  Group all_company{mint(), acme.id, "All Acme", "OPEN", everyone};
  s.groups[all_company.id] = all_company;
  Group support{mint(), acme.id, "Support Team", "CLOSED", {everyone[0], everyone[2], everyone[3]}};
  s.groups[support.id] = support;
}

}  // namespace

// The snapshot plus the look-up indexes derived from it, and the background saver's state.
// Every member is guarded by PlatformState::mutex_ except `save_mutex` and `saver`.
class PlatformState::Data {
 public:
  StateSnapshot s;

  std::map<std::string, Id> install_by_token;
  std::map<std::pair<Id, Id>, Id> install_by_app_community;
  std::map<Id, Id> install_by_page;
  std::map<std::pair<Id, Id>, Id> user_by_scoped_id;  // (app id, scoped id) → platform user id
  std::map<Id, Id> app_of_page;                       // every page ever minted → its app
  std::map<std::pair<Id, Id>, Id> direct_threads;     // (platform user id, page id) → thread id
  std::map<Id, std::vector<std::size_t>> thread_messages;  // thread id → indexes into s.messages
  std::map<std::string, Id> user_by_email;

  bool dirty = false;
  bool stopping = false;
  std::condition_variable changed;
  std::mutex save_mutex;  // serialises file writes; taken before PlatformState::mutex_, never after
  std::thread saver;

  Id mint() { return std::to_string(s.next_id++); }

  // Marks the state changed so the saver writes it.
  void mark_changed() {
    dirty = true;
    changed.notify_one();
  }

  void rebuild_indexes() {
    install_by_token.clear();
    install_by_app_community.clear();
    install_by_page.clear();
    for (const auto& [id, install] : s.installs) index_install(install);
    user_by_scoped_id.clear();
    for (const auto& [key, scoped] : s.scoped_ids) user_by_scoped_id[{key.first, scoped}] = key.second;
    app_of_page.clear();
    for (const auto& [key, page] : s.bot_pages) app_of_page[page] = key.first;
    direct_threads.clear();
    for (const auto& [id, thread] : s.threads) {
      if (!thread.group && thread.page_id && thread.participants.size() == 1) {
        direct_threads[{thread.participants.front(), *thread.page_id}] = id;
      }
    }
    thread_messages.clear();
    for (std::size_t i = 0; i < s.messages.size(); ++i) thread_messages[s.messages[i].thread_id].push_back(i);
    user_by_email.clear();
    for (const auto& [id, user] : s.users) {
      if (!user.email.empty()) user_by_email[user.email] = id;
    }
  }

  void index_install(const Install& install) {
    install_by_token[install.access_token] = install.id;
    install_by_app_community[{install.app_id, install.community_id}] = install.id;
    install_by_page[install.page_id] = install.id;
  }

  void unindex_install(const Install& install) {
    install_by_token.erase(install.access_token);
    install_by_app_community.erase({install.app_id, install.community_id});
    install_by_page.erase(install.page_id);
  }

  std::optional<Install> find_install(const std::map<std::string, Id>& index, const std::string& key) const {
    const auto it = index.find(key);
    if (it == index.end()) return std::nullopt;
    return s.installs.at(it->second);
  }

  // Returns the community of a page's install, or nullopt when the page is not installed.
  std::optional<Id> community_of_page(const Id& page_id) const {
    const auto it = install_by_page.find(page_id);
    if (it == install_by_page.end()) return std::nullopt;
    return s.installs.at(it->second).community_id;
  }

  // Returns the page of `app_id` in `community_id`, minting it on the first install.
  Id bot_page(const Id& app_id, const Id& community_id) {
    auto [it, inserted] = s.bot_pages.try_emplace({app_id, community_id});
    if (inserted) {
      it->second = mint();
      app_of_page[it->second] = app_id;
    }
    return it->second;
  }

  Result<void> check_admin(const Id& admin_id) const {
    const auto it = s.users.find(admin_id);
    if (it == s.users.end() || !it->second.active || !it->second.system_admin) {
      return Error(ErrorCode::kPermissionDenied, "only a system administrator can install apps");
    }
    return ok_result();
  }

  // Creates the install of an app in a community, or replaces the token and permissions of an
  // existing one (its old token dies; its id and page stay).
  Install put_install(const Id& app_id, const Id& community_id, const Id& admin_id,
                      std::vector<std::string> permissions, std::int64_t now) {
    Install install;
    if (const auto existing = install_by_app_community.find({app_id, community_id});
        existing != install_by_app_community.end()) {
      install = s.installs.at(existing->second);
      unindex_install(install);
    } else {
      install.id = mint();
      install.app_id = app_id;
      install.community_id = community_id;
      install.page_id = bot_page(app_id, community_id);
    }
    install.access_token = "DQV" + core::secure_random_token(48);
    install.permissions = std::move(permissions);
    install.installed_by = admin_id;
    install.installed_at = now;
    s.installs[install.id] = install;
    index_install(install);
    return install;
  }

  void forget_old_codes(std::int64_t now, std::chrono::seconds lifetime) {
    const std::int64_t oldest = now - kCodeMemoryLifetimes * lifetime.count();
    std::erase_if(s.codes, [oldest](const auto& entry) { return entry.second.issued_at < oldest; });
  }

  // kPermissionDenied unless a person may take part in a group's feed (members only).
  Result<void> check_can_post(const Group& group, const Id& from, bool from_bot) const {
    if (from_bot) {
      if (community_of_page(from) != group.community_id) {
        return Error(ErrorCode::kPermissionDenied, "the bot is not installed in the group's community");
      }
      return ok_result();
    }
    if (!contains(group.members, from)) {
      return Error(ErrorCode::kPermissionDenied, "only members of the group can post or comment there");
    }
    return ok_result();
  }

  // Returns the group a post or comment lives in.
  std::optional<Group> group_of(const Id& object_id) const {
    Id post_id = object_id;
    if (const auto comment = s.comments.find(object_id); comment != s.comments.end()) post_id = comment->second.post_id;
    const auto post = s.posts.find(post_id);
    if (post == s.posts.end()) return std::nullopt;
    return s.groups.at(post->second.group_id);
  }
};

PlatformState::PlatformState(PlatformOptions options, const core::Clock& clock)
    : options_(std::move(options)), clock_(clock), data_(std::make_unique<Data>()) {}

PlatformState::~PlatformState() {
  // Only a state that opened successfully saves: a failed open must leave a bad file as it was.
  if (!data_->saver.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    data_->stopping = true;
  }
  data_->changed.notify_all();
  data_->saver.join();
  if (auto saved = save(); !saved) {
    std::fprintf(stderr, "wik emulator: could not save the state: %s\n", saved.error().reason().c_str());
  }
}

Result<std::unique_ptr<PlatformState>> PlatformState::open(PlatformOptions options, const core::Clock& clock) {
  std::unique_ptr<PlatformState> state(new PlatformState(std::move(options), clock));
  Data& data = *state->data_;
  data.s.next_id = kFirstId;
  const std::filesystem::path& file = state->options_.state_file;
  if (file.empty()) {
    seed(data.s);
    data.rebuild_indexes();
    return state;
  }
  auto loaded = read_state_file(file);
  if (loaded) {
    data.s = std::move(loaded).value();
  } else if (loaded.error().code() == ErrorCode::kNotFound) {
    seed(data.s);
  } else {
    return loaded.error();
  }
  data.rebuild_indexes();
  if (auto saved = state->save(); !saved) return saved.error();
  PlatformState* self = state.get();
  data.saver = std::thread([self] {
    std::unique_lock lock(self->mutex_);
    while (true) {
      self->data_->changed.wait(lock, [self] { return self->data_->dirty || self->data_->stopping; });
      // Gather the changes of one save interval into one write.
      self->data_->changed.wait_for(lock, self->options_.save_interval, [self] { return self->data_->stopping; });
      if (self->data_->stopping) return;  // the destructor saves
      lock.unlock();
      if (auto saved = self->save(); !saved) {
        std::fprintf(stderr, "wik emulator: could not save the state: %s\n", saved.error().reason().c_str());
      }
      lock.lock();
    }
  });
  return state;
}

Result<void> PlatformState::save() {
  if (options_.state_file.empty()) return ok_result();
  std::lock_guard writing(data_->save_mutex);
  boost::json::value document;
  {
    std::lock_guard lock(mutex_);
    document = encode_state(data_->s);
    data_->dirty = false;
  }
  auto written = write_state_file(options_.state_file, document);
  if (!written) {
    std::lock_guard lock(mutex_);
    data_->dirty = true;
  }
  return written;
}

// --- communities, people, groups -----------------------------------------------------------------

Result<Community> PlatformState::create_community(std::string name) {
  if (auto valid = check_text("name", name, kMaxNameBytes, true); !valid) return valid.error();
  std::lock_guard lock(mutex_);
  Community community{data_->mint(), std::move(name)};
  data_->s.communities[community.id] = community;
  data_->mark_changed();
  return community;
}

Result<User> PlatformState::create_user(const Id& community_id, User fields) {
  if (fields.locale.empty()) fields.locale = "en_US";
  for (const auto& [field, value, limit, required] :
       {std::tuple{"name", &fields.name, kMaxNameBytes, true}, std::tuple{"email", &fields.email, kMaxEmailBytes, false},
        std::tuple{"locale", &fields.locale, kMaxShortFieldBytes, true},
        std::tuple{"title", &fields.title, kMaxShortFieldBytes, false}}) {
    if (auto valid = check_text(field, *value, limit, required); !valid) return valid.error();
  }
  std::lock_guard lock(mutex_);
  if (!data_->s.communities.contains(community_id)) return Error(ErrorCode::kNotFound, "no such community");
  if (!fields.email.empty() && data_->user_by_email.contains(fields.email)) {
    return Error(ErrorCode::kConflict, "a person with this email already exists");
  }
  fields.id = data_->mint();
  fields.community_id = community_id;
  data_->s.users[fields.id] = fields;
  if (!fields.email.empty()) data_->user_by_email[fields.email] = fields.id;
  data_->mark_changed();
  return fields;
}

Result<Group> PlatformState::create_group(const Id& community_id, std::string name, std::vector<Id> members) {
  if (auto valid = check_text("name", name, kMaxNameBytes, true); !valid) return valid.error();
  std::lock_guard lock(mutex_);
  if (!data_->s.communities.contains(community_id)) return Error(ErrorCode::kNotFound, "no such community");
  std::vector<Id> unique_members;
  for (Id& member : members) {
    const auto user = data_->s.users.find(member);
    if (user == data_->s.users.end()) return Error(ErrorCode::kNotFound, "no such person: " + member);
    if (user->second.community_id != community_id) {
      return Error(ErrorCode::kPermissionDenied, "person " + member + " belongs to another community");
    }
    if (!contains(unique_members, member)) unique_members.push_back(std::move(member));
  }
  Group group{data_->mint(), community_id, std::move(name), "OPEN", std::move(unique_members)};
  data_->s.groups[group.id] = group;
  data_->mark_changed();
  return group;
}

Result<Group> PlatformState::add_group_member(const Id& group_id, const Id& platform_user_id) {
  std::lock_guard lock(mutex_);
  const auto group = data_->s.groups.find(group_id);
  if (group == data_->s.groups.end()) return Error(ErrorCode::kNotFound, "no such group");
  const auto user = data_->s.users.find(platform_user_id);
  if (user == data_->s.users.end()) return Error(ErrorCode::kNotFound, "no such person");
  if (user->second.community_id != group->second.community_id) {
    return Error(ErrorCode::kPermissionDenied, "the person belongs to another community");
  }
  if (!contains(group->second.members, platform_user_id)) {
    group->second.members.push_back(platform_user_id);
    data_->mark_changed();
  }
  return group->second;
}

std::vector<Community> PlatformState::communities() const {
  std::lock_guard lock(mutex_);
  std::vector<Community> all;
  for (const auto& [id, community] : data_->s.communities) all.push_back(community);
  return all;
}

std::optional<Community> PlatformState::community(const Id& id) const {
  std::lock_guard lock(mutex_);
  const auto it = data_->s.communities.find(id);
  if (it == data_->s.communities.end()) return std::nullopt;
  return it->second;
}

std::vector<User> PlatformState::users(const Id& community_id) const {
  std::lock_guard lock(mutex_);
  std::vector<User> found;
  for (const auto& [id, user] : data_->s.users) {
    if (user.community_id == community_id) found.push_back(user);
  }
  return found;
}

std::optional<User> PlatformState::user(const Id& platform_user_id) const {
  std::lock_guard lock(mutex_);
  const auto it = data_->s.users.find(platform_user_id);
  if (it == data_->s.users.end()) return std::nullopt;
  return it->second;
}

std::optional<User> PlatformState::user_by_email(const std::string& email) const {
  std::lock_guard lock(mutex_);
  const auto it = data_->user_by_email.find(email);
  if (it == data_->user_by_email.end()) return std::nullopt;
  return data_->s.users.at(it->second);
}

std::vector<Group> PlatformState::groups(const Id& community_id) const {
  std::lock_guard lock(mutex_);
  std::vector<Group> found;
  for (const auto& [id, group] : data_->s.groups) {
    if (group.community_id == community_id) found.push_back(group);
  }
  return found;
}

std::optional<Group> PlatformState::group(const Id& id) const {
  std::lock_guard lock(mutex_);
  const auto it = data_->s.groups.find(id);
  if (it == data_->s.groups.end()) return std::nullopt;
  return it->second;
}

// --- apps and app-scoped ids ---------------------------------------------------------------------

Result<void> PlatformState::register_app(App app) {
  if (app.id.empty() || !std::all_of(app.id.begin(), app.id.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Error(ErrorCode::kInvalidArgument, "app id must be a non-empty decimal string");
  }
  if (app.id.size() > 32) return too_long("app id", 32);
  for (const auto& [field, value, limit] :
       {std::tuple{"secret", &app.secret, kMaxShortFieldBytes}, std::tuple{"name", &app.name, kMaxNameBytes}}) {
    if (auto valid = check_text(field, *value, limit, true); !valid) return valid.error();
  }
  for (const auto& [field, value] :
       {std::pair{"publisher", &app.publisher}, std::pair{"tagline", &app.tagline},
        std::pair{"redirect_url", &app.redirect_url}, std::pair{"deauthorize_url", &app.deauthorize_url}}) {
    if (auto valid = check_text(field, *value, kMaxAppFieldBytes, false); !valid) return valid.error();
  }
  if (app.icon_png.size() > kMaxIconBytes) return too_long("icon", kMaxIconBytes);
  for (const std::string& permission : app.permissions) {
    const bool lower_code = !permission.empty() && permission.size() <= 64 &&
                            std::all_of(permission.begin(), permission.end(),
                                        [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
    if (!lower_code) return Error(ErrorCode::kInvalidArgument, "permissions must be lower-case codes such as \"message\"");
  }
  std::lock_guard lock(mutex_);
  data_->s.apps[app.id] = std::move(app);
  data_->mark_changed();
  return ok_result();
}

std::vector<App> PlatformState::apps() const {
  std::lock_guard lock(mutex_);
  std::vector<App> all;
  for (const auto& [id, app] : data_->s.apps) all.push_back(app);
  return all;
}

std::optional<App> PlatformState::app(const Id& app_id) const {
  std::lock_guard lock(mutex_);
  const auto it = data_->s.apps.find(app_id);
  if (it == data_->s.apps.end()) return std::nullopt;
  return it->second;
}

Id PlatformState::scoped_user_id(const Id& app_id, const Id& platform_user_id) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = data_->s.scoped_ids.try_emplace({app_id, platform_user_id});
  if (inserted) {
    it->second = data_->mint();
    data_->user_by_scoped_id[{app_id, it->second}] = platform_user_id;
    data_->mark_changed();
  }
  return it->second;
}

std::optional<Id> PlatformState::resolve_scoped_user(const Id& app_id, const Id& scoped_id) const {
  std::lock_guard lock(mutex_);
  const auto it = data_->user_by_scoped_id.find({app_id, scoped_id});
  if (it == data_->user_by_scoped_id.end()) return std::nullopt;
  return it->second;
}

// --- install dialog, codes, tokens ---------------------------------------------------------------

Result<AuthorizationCode> PlatformState::issue_code(const Id& app_id, const Id& admin_id, std::string redirect_uri,
                                                    std::vector<std::string> permissions) {
  std::lock_guard lock(mutex_);
  if (auto admin = data_->check_admin(admin_id); !admin) return admin.error();
  const auto app = data_->s.apps.find(app_id);
  if (app == data_->s.apps.end()) return Error(ErrorCode::kNotFound, "no such app");
  if (redirect_uri != app->second.redirect_url) {
    return Error(ErrorCode::kInvalidArgument, "redirect_uri is not the app's registered Redirect URL");
  }
  if (permissions.empty()) permissions = app->second.permissions;
  for (const std::string& permission : permissions) {
    if (!contains(app->second.permissions, permission)) {
      return Error(ErrorCode::kInvalidArgument, "the app did not request the permission " + permission);
    }
  }
  const std::int64_t now = clock_.unix_seconds();
  data_->forget_old_codes(now, options_.code_lifetime);
  AuthorizationCode code;
  code.code = "AQ" + core::secure_random_token(32);
  code.app_id = app_id;
  code.community_id = data_->s.users.at(admin_id).community_id;
  code.admin_id = admin_id;
  code.redirect_uri = std::move(redirect_uri);
  code.permissions = std::move(permissions);
  code.issued_at = now;
  data_->s.codes[code.code] = code;
  data_->mark_changed();
  return code;
}

Result<Install> PlatformState::exchange_code(const Id& app_id, const std::string& app_secret, const std::string& code,
                                             const std::string& redirect_uri) {
  std::lock_guard lock(mutex_);
  const auto app = data_->s.apps.find(app_id);
  if (app == data_->s.apps.end()) return Error(ErrorCode::kNotFound, "no such app");
  if (!core::constant_time_equal(app->second.secret, app_secret)) {
    return Error(ErrorCode::kBadSignature, "the app secret is wrong");
  }
  const auto found = data_->s.codes.find(code);
  if (found == data_->s.codes.end() || found->second.app_id != app_id) {
    return Error(ErrorCode::kMalformed, "unknown authorization code");
  }
  AuthorizationCode& issued = found->second;
  if (issued.used) return Error(ErrorCode::kConflict, "the authorization code has been used");
  if (clock_.unix_seconds() - issued.issued_at > options_.code_lifetime.count()) {
    return Error(ErrorCode::kExpired, "the authorization code has expired");
  }
  if (redirect_uri != issued.redirect_uri) {
    return Error(ErrorCode::kInvalidArgument, "redirect_uri differs from the one the code was issued for");
  }
  issued.used = true;
  Install install = data_->put_install(app_id, issued.community_id, issued.admin_id, issued.permissions,
                                       clock_.unix_seconds());
  data_->mark_changed();
  return install;
}

Result<Install> PlatformState::install_directly(const Id& app_id, const Id& admin_id) {
  std::lock_guard lock(mutex_);
  if (auto admin = data_->check_admin(admin_id); !admin) return admin.error();
  const auto app = data_->s.apps.find(app_id);
  if (app == data_->s.apps.end()) return Error(ErrorCode::kNotFound, "no such app");
  Install install = data_->put_install(app_id, data_->s.users.at(admin_id).community_id, admin_id,
                                       app->second.permissions, clock_.unix_seconds());
  data_->mark_changed();
  return install;
}

Result<Install> PlatformState::uninstall(const Id& app_id, const Id& community_id) {
  std::lock_guard lock(mutex_);
  const auto found = data_->install_by_app_community.find({app_id, community_id});
  if (found == data_->install_by_app_community.end()) {
    return Error(ErrorCode::kNotFound, "the app is not installed in that community");
  }
  Install removed = data_->s.installs.at(found->second);
  data_->unindex_install(removed);
  data_->s.installs.erase(removed.id);
  data_->s.messenger_profiles.erase(removed.id);
  data_->mark_changed();
  return removed;
}

std::optional<Install> PlatformState::install_by_token(const std::string& access_token) const {
  std::lock_guard lock(mutex_);
  return data_->find_install(data_->install_by_token, access_token);
}

std::optional<Install> PlatformState::install_of(const Id& app_id, const Id& community_id) const {
  std::lock_guard lock(mutex_);
  const auto it = data_->install_by_app_community.find({app_id, community_id});
  if (it == data_->install_by_app_community.end()) return std::nullopt;
  return data_->s.installs.at(it->second);
}

std::optional<Install> PlatformState::install_by_page(const Id& page_id) const {
  std::lock_guard lock(mutex_);
  return data_->find_install(data_->install_by_page, page_id);
}

std::vector<Install> PlatformState::installs(const Id& community_id) const {
  std::lock_guard lock(mutex_);
  std::vector<Install> found;
  for (const auto& [id, install] : data_->s.installs) {
    if (install.community_id == community_id) found.push_back(install);
  }
  return found;
}

std::vector<Install> PlatformState::installs_of_app(const Id& app_id) const {
  std::lock_guard lock(mutex_);
  std::vector<Install> found;
  for (const auto& [id, install] : data_->s.installs) {
    if (install.app_id == app_id) found.push_back(install);
  }
  return found;
}

// --- subscriptions -------------------------------------------------------------------------------

void PlatformState::subscribe(const Id& app_id, Subscription subscription) {
  std::lock_guard lock(mutex_);
  Subscription& current = data_->s.subscriptions[app_id][subscription.object];
  current.object = subscription.object;
  current.callback_url = std::move(subscription.callback_url);
  current.verify_token = std::move(subscription.verify_token);
  current.fields.merge(subscription.fields);
  data_->mark_changed();
}

void PlatformState::unsubscribe(const Id& app_id, const std::string& object, const std::set<std::string>& fields) {
  std::lock_guard lock(mutex_);
  const auto app = data_->s.subscriptions.find(app_id);
  if (app == data_->s.subscriptions.end()) return;
  if (object.empty()) {
    data_->s.subscriptions.erase(app);
  } else if (const auto subscription = app->second.find(object); subscription != app->second.end()) {
    if (!fields.empty()) {
      for (const std::string& field : fields) subscription->second.fields.erase(field);
    }
    if (fields.empty() || subscription->second.fields.empty()) app->second.erase(subscription);
    if (app->second.empty()) data_->s.subscriptions.erase(app);
  }
  data_->mark_changed();
}

std::vector<Subscription> PlatformState::subscriptions(const Id& app_id) const {
  std::lock_guard lock(mutex_);
  std::vector<Subscription> found;
  if (const auto app = data_->s.subscriptions.find(app_id); app != data_->s.subscriptions.end()) {
    for (const auto& [object, subscription] : app->second) found.push_back(subscription);
  }
  return found;
}

// --- Work Chat -----------------------------------------------------------------------------------

Thread PlatformState::direct_thread(const Id& platform_user_id, const Id& page_id) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = data_->direct_threads.try_emplace({platform_user_id, page_id});
  if (!inserted) return data_->s.threads.at(it->second);
  Thread thread;
  thread.id = data_->mint();
  if (const auto user = data_->s.users.find(platform_user_id); user != data_->s.users.end()) {
    thread.community_id = user->second.community_id;
  }
  thread.participants = {platform_user_id};
  thread.page_id = page_id;
  it->second = thread.id;
  data_->s.threads[thread.id] = thread;
  data_->mark_changed();
  return thread;
}

Result<Thread> PlatformState::create_group_thread(const Id& page_id, std::vector<Id> platform_user_ids) {
  if (platform_user_ids.empty()) return Error(ErrorCode::kInvalidArgument, "a thread needs at least one person");
  if (platform_user_ids.size() > kMaxThreadParticipants) {
    return Error(ErrorCode::kInvalidArgument, "a thread has at most 250 people");
  }
  std::lock_guard lock(mutex_);
  const auto community = data_->community_of_page(page_id);
  if (!community) return Error(ErrorCode::kNotFound, "no installed bot has that page id");
  Thread thread;
  for (Id& id : platform_user_ids) {
    const auto user = data_->s.users.find(id);
    if (user == data_->s.users.end() || user->second.community_id != *community) {
      return Error(ErrorCode::kNotFound, "no matching user found: " + id);
    }
    if (!contains(thread.participants, id)) thread.participants.push_back(std::move(id));
  }
  thread.id = data_->mint();
  thread.community_id = *community;
  thread.page_id = page_id;
  thread.group = true;
  data_->s.threads[thread.id] = thread;
  data_->mark_changed();
  return thread;
}

std::optional<Thread> PlatformState::thread(const Id& thread_id) const {
  std::lock_guard lock(mutex_);
  const auto it = data_->s.threads.find(thread_id);
  if (it == data_->s.threads.end()) return std::nullopt;
  return it->second;
}

std::vector<Thread> PlatformState::threads_of_user(const Id& platform_user_id) const {
  std::lock_guard lock(mutex_);
  std::vector<Thread> found;
  for (const auto& [id, thread] : data_->s.threads) {
    if (contains(thread.participants, platform_user_id)) found.push_back(thread);
  }
  return found;
}

Result<ChatMessage> PlatformState::add_message(const Id& thread_id, const Id& from, bool from_bot,
                                               boost::json::value message) {
  std::lock_guard lock(mutex_);
  const auto thread = data_->s.threads.find(thread_id);
  if (thread == data_->s.threads.end()) return Error(ErrorCode::kNotFound, "no such thread");
  const bool in_thread = from_bot ? thread->second.page_id == from : contains(thread->second.participants, from);
  if (!in_thread) return Error(ErrorCode::kPermissionDenied, "the sender is not in the thread");
  ChatMessage added;
  added.mid = "m_" + data_->mint();
  added.thread_id = thread_id;
  added.from = from;
  added.from_bot = from_bot;
  added.sent_at_ms = unix_ms(clock_);
  added.message = std::move(message);
  data_->thread_messages[thread_id].push_back(data_->s.messages.size());
  data_->s.messages.push_back(added);
  data_->mark_changed();
  return added;
}

std::vector<ChatMessage> PlatformState::messages(const Id& thread_id) const {
  std::lock_guard lock(mutex_);
  std::vector<ChatMessage> found;
  if (const auto it = data_->thread_messages.find(thread_id); it != data_->thread_messages.end()) {
    for (const std::size_t index : it->second) found.push_back(data_->s.messages[index]);
  }
  return found;
}

std::vector<ChatMessage> PlatformState::bot_messages(const std::optional<Id>& app_id) const {
  std::lock_guard lock(mutex_);
  std::vector<ChatMessage> found;
  for (const ChatMessage& message : data_->s.messages) {
    if (!message.from_bot) continue;
    if (app_id) {
      const auto app = data_->app_of_page.find(message.from);
      if (app == data_->app_of_page.end() || app->second != *app_id) continue;
    }
    found.push_back(message);
  }
  return found;
}

// --- groups feed ---------------------------------------------------------------------------------

Result<Post> PlatformState::add_post(const Id& group_id, const Id& from, bool from_bot, std::string message) {
  if (auto valid = check_text("message", message, kMaxPostBytes, true); !valid) return valid.error();
  std::lock_guard lock(mutex_);
  const auto group = data_->s.groups.find(group_id);
  if (group == data_->s.groups.end()) return Error(ErrorCode::kNotFound, "no such group");
  if (auto allowed = data_->check_can_post(group->second, from, from_bot); !allowed) return allowed.error();
  Post post;
  post.id = group_id + "_" + data_->mint();
  post.group_id = group_id;
  post.from = from;
  post.from_bot = from_bot;
  post.message = std::move(message);
  post.created_at = clock_.unix_seconds();
  data_->s.posts[post.id] = post;
  data_->mark_changed();
  return post;
}

Result<Comment> PlatformState::add_comment(const Id& object_id, const Id& from, bool from_bot, std::string message) {
  if (auto valid = check_text("message", message, kMaxPostBytes, true); !valid) return valid.error();
  std::lock_guard lock(mutex_);
  const auto group = data_->group_of(object_id);
  if (!group) return Error(ErrorCode::kNotFound, "no such post or comment");
  if (auto allowed = data_->check_can_post(*group, from, from_bot); !allowed) return allowed.error();
  Comment comment;
  if (const auto parent = data_->s.comments.find(object_id); parent != data_->s.comments.end()) {
    if (parent->second.parent_id) {
      return Error(ErrorCode::kInvalidArgument, "comments nest one level: answer a reply by commenting on its parent");
    }
    comment.post_id = parent->second.post_id;
    comment.parent_id = object_id;
  } else {
    comment.post_id = object_id;
  }
  comment.id = post_number(comment.post_id) + "_" + data_->mint();
  comment.from = from;
  comment.from_bot = from_bot;
  comment.message = std::move(message);
  comment.created_at = clock_.unix_seconds();
  data_->s.comments[comment.id] = comment;
  data_->mark_changed();
  return comment;
}

std::optional<Post> PlatformState::post(const Id& post_id) const {
  std::lock_guard lock(mutex_);
  const auto it = data_->s.posts.find(post_id);
  if (it == data_->s.posts.end()) return std::nullopt;
  return it->second;
}

std::optional<Comment> PlatformState::comment(const Id& comment_id) const {
  std::lock_guard lock(mutex_);
  const auto it = data_->s.comments.find(comment_id);
  if (it == data_->s.comments.end()) return std::nullopt;
  return it->second;
}

std::vector<Post> PlatformState::feed(const Id& group_id) const {
  std::lock_guard lock(mutex_);
  std::vector<Post> found;
  for (const auto& [id, post] : data_->s.posts) {
    if (post.group_id == group_id) found.push_back(post);
  }
  std::sort(found.begin(), found.end(), [](const Post& a, const Post& b) {
    return creation_order(a.id) > creation_order(b.id);
  });
  return found;
}

std::vector<Comment> PlatformState::comments(const Id& object_id) const {
  std::lock_guard lock(mutex_);
  std::vector<Comment> found;
  const bool of_comment = data_->s.comments.contains(object_id);
  for (const auto& [id, comment] : data_->s.comments) {
    const bool matches = of_comment ? comment.parent_id == object_id : comment.post_id == object_id && !comment.parent_id;
    if (matches) found.push_back(comment);
  }
  std::sort(found.begin(), found.end(), [](const Comment& a, const Comment& b) {
    return creation_order(a.id) < creation_order(b.id);
  });
  return found;
}

// --- messenger profile ---------------------------------------------------------------------------

void PlatformState::set_messenger_profile(const Id& install_id, const boost::json::object& fields) {
  std::lock_guard lock(mutex_);
  boost::json::object& profile = data_->s.messenger_profiles[install_id];
  for (const auto& [key, value] : fields) profile[key] = value;
  data_->mark_changed();
}

boost::json::object PlatformState::messenger_profile(const Id& install_id) const {
  std::lock_guard lock(mutex_);
  const auto it = data_->s.messenger_profiles.find(install_id);
  if (it == data_->s.messenger_profiles.end()) return {};
  return it->second;
}

void PlatformState::delete_messenger_profile_fields(const Id& install_id, const std::vector<std::string>& fields) {
  std::lock_guard lock(mutex_);
  const auto it = data_->s.messenger_profiles.find(install_id);
  if (it == data_->s.messenger_profiles.end()) return;
  for (const std::string& field : fields) it->second.erase(field);
  data_->mark_changed();
}

}  // namespace wik::emulator
