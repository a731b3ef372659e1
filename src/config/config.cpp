#include "config/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <numeric>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "config/secret_file.h"
#include "core/constant_time.h"
#include "core/printable.h"

namespace wik::config {
namespace {

namespace fs = std::filesystem;
using core::printable;

constexpr std::size_t kMaxConfigFileSize = 1024 * 1024;
constexpr std::string_view kDefaultConfigFile = "wik.toml";
constexpr std::string_view kFilePath = "a file path";

// The TOML type a setting takes in wik.toml. In the environment every value is text.
enum class ValueType {
  kString,
  kInteger,
  kTime,  // a string, or a TOML date-time (read back as its RFC 3339 text)
};

// A plain setting: `key` in wik.toml, or the variable WIK_<KEY>.
struct Setting {
  std::string_view key;       // "server.port"
  ValueType type;
  std::string_view expected;  // what a valid value looks like, for error reasons
  bool (*apply)(std::string_view text, Config& config);  // stores a valid `text`; false if it is invalid
};

// A secret: the variable WIK_<KEY>, or the file named by `file_key` (in wik.toml or its variable).
struct SecretSetting {
  std::string_view key;       // "app.secret"
  std::string_view file_key;  // "app.secret_file"
  void (*store)(Secret value, Config& config);
};

template <class E>
struct Choice {
  std::string_view name;
  E value;
};

constexpr std::array<Choice<StoreEngine>, 2> kEngines = {{{"sqlite", StoreEngine::kSqlite},
                                                          {"postgres", StoreEngine::kPostgres}}};
constexpr std::array<Choice<LogLevel>, 6> kLevels = {{{"trace", LogLevel::kTrace},
                                                      {"debug", LogLevel::kDebug},
                                                      {"info", LogLevel::kInfo},
                                                      {"warn", LogLevel::kWarn},
                                                      {"error", LogLevel::kError},
                                                      {"off", LogLevel::kOff}}};
constexpr std::array<Choice<LogFormat>, 2> kFormats = {{{"text", LogFormat::kText}, {"json", LogFormat::kJson}}};

char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
char to_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool is_digits(std::string_view text) {
  return !text.empty() && std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; });
}

// Returns true for non-empty text of visible ASCII characters only (no spaces, controls or UTF-8).
bool is_visible_ascii(std::string_view text) {
  return !text.empty() && std::ranges::all_of(text, [](char c) { return c > ' ' && c < '\x7f'; });
}

// Stores `text` in `target` when it is `valid`; returns `valid`.
bool assign_if(bool valid, std::string_view text, std::string& target) {
  if (valid) target = std::string(text);
  return valid;
}

template <class T>
bool assign_number(std::string_view text, T max, T& target) {
  unsigned long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value > max) return false;
  target = static_cast<T>(value);
  return true;
}

// assign_number for counts: 1 to max.
template <class T>
bool assign_count(std::string_view text, T max, T& target) {
  T value{};
  if (!assign_number(text, max, value) || value == 0) return false;
  target = value;
  return true;
}

template <class E, std::size_t N>
bool assign_choice(std::string_view text, const std::array<Choice<E>, N>& choices, E& target) {
  for (const Choice<E>& choice : choices) {
    if (std::ranges::equal(text, choice.name, {}, to_lower)) {
      target = choice.value;
      return true;
    }
  }
  return false;
}

// Stores an http:// or https:// URL with a host, without trailing '/'.
bool assign_url(std::string_view text, std::string& target) {
  const std::size_t scheme = text.starts_with("https://") ? 8 : text.starts_with("http://") ? 7 : 0;
  if (scheme == 0 || !is_visible_ascii(text)) return false;
  while (text.size() > scheme && text.back() == '/') text.remove_suffix(1);
  if (text.size() == scheme || text[scheme] == '/') return false;
  target = std::string(text);
  return true;
}

// Returns the digits of text[from, from + count) as a number, or -1 when any is not a digit.
int digits_at(std::string_view text, std::size_t from, std::size_t count) {
  int value = 0;
  for (const char c : text.substr(from, count)) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

// Returns the time of an RFC 3339 UTC timestamp without fraction, "2026-02-01T00:00:00Z" ('T' and
// 'Z' in either case), or nullopt for anything else, an impossible date or time included.
std::optional<TimePoint> parse_utc_time(std::string_view text) {
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') ||
      text[13] != ':' || text[16] != ':' || (text[19] != 'Z' && text[19] != 'z')) {
    return std::nullopt;
  }
  const int year = digits_at(text, 0, 4);
  const int month = digits_at(text, 5, 2);
  const int day = digits_at(text, 8, 2);
  const int hour = digits_at(text, 11, 2);
  const int minute = digits_at(text, 14, 2);
  const int second = digits_at(text, 17, 2);
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (year < 0 || month < 0 || day < 0 || !date.ok() || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
      second < 0 || second > 59) {
    return std::nullopt;
  }
  const std::chrono::sys_seconds time = std::chrono::sys_days(date) + std::chrono::hours(hour) +
                                         std::chrono::minutes(minute) + std::chrono::seconds(second);
  // Beyond 2262 a system_clock time overflows; such a time is simply "far ahead".
  const auto latest = std::chrono::floor<std::chrono::seconds>(TimePoint::max());
  return time < latest ? TimePoint(time) : TimePoint::max();
}

std::string utc_text(TimePoint time) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(time)));
}

bool is_graph_version(std::string_view text) {
  const std::size_t dot = text.find('.');
  return text.starts_with('v') && dot != std::string_view::npos && is_digits(text.substr(1, dot - 1)) &&
         is_digits(text.substr(dot + 1));
}

// Every plain setting, in the order they are checked (and documented in docs/configuration.md).
constexpr std::string_view kRotationEndKey = "app.previous_secret_until";
constexpr std::string_view kRotationEndExpected = "an RFC 3339 UTC time such as 2026-02-01T00:00:00Z";

constexpr std::array<Setting, 26> kSettings = {{
    {"app.id", ValueType::kString, "a string of digits",
     [](std::string_view text, Config& config) { return assign_if(is_digits(text), text, config.app.id); }},
    {kRotationEndKey, ValueType::kTime, kRotationEndExpected,
     [](std::string_view text, Config& config) {
       config.app.previous_secret_until = parse_utc_time(text);
       return config.app.previous_secret_until.has_value();
     }},
    {"app.graph_url", ValueType::kString, "an http:// or https:// URL",
     [](std::string_view text, Config& config) { return assign_url(text, config.app.graph_url); }},
    {"app.graph_version", ValueType::kString, "a Graph API version such as v3.2",
     [](std::string_view text, Config& config) {
       return assign_if(is_graph_version(text), text, config.app.graph_version);
     }},
    {"app.workplace_url", ValueType::kString, "an http:// or https:// URL",
     [](std::string_view text, Config& config) { return assign_url(text, config.app.workplace_url); }},
    {"app.redirect_url", ValueType::kString, "an http:// or https:// URL, or \"\"",
     [](std::string_view text, Config& config) {
       if (!text.empty()) return assign_url(text, config.app.redirect_url);
       config.app.redirect_url.clear();
       return true;
     }},
    {"app.reverify_interval_hours", ValueType::kInteger, "an integer 0-720 (0: no re-verify sweep)",
     [](std::string_view text, Config& config) {
       unsigned hours = 0;
       if (!assign_number(text, 720u, hours)) return false;
       config.app.reverify_interval = std::chrono::hours(hours);
       return true;
     }},
    {"server.address", ValueType::kString, "a host name or IP address",
     [](std::string_view text, Config& config) {
       return assign_if(is_visible_ascii(text), text, config.server.address);
     }},
    {"server.port", ValueType::kInteger, "an integer 0-65535",
     [](std::string_view text, Config& config) {
       return assign_number(text, std::uint16_t{65535}, config.server.port);
     }},
    {"server.threads", ValueType::kInteger, "an integer 0-1024 (0: one per CPU core)",
     [](std::string_view text, Config& config) { return assign_number(text, 1024u, config.server.threads); }},
    {"server.public_url", ValueType::kString, "an http:// or https:// URL, or \"\"",
     [](std::string_view text, Config& config) {
       if (!text.empty()) return assign_url(text, config.server.public_url);
       config.server.public_url.clear();
       return true;
     }},
    {"server.trusted_proxy_hops", ValueType::kInteger, "an integer 0-8 (0: no trusted proxy)",
     [](std::string_view text, Config& config) { return assign_number(text, 8u, config.server.trusted_proxy_hops); }},
    {"store.engine", ValueType::kString, "sqlite or postgres",
     [](std::string_view text, Config& config) { return assign_choice(text, kEngines, config.store.engine); }},
    {"store.sqlite_path", ValueType::kString, kFilePath,
     [](std::string_view text, Config& config) {
       if (text.empty() || text.find('\0') != std::string_view::npos) return false;
       config.store.sqlite_path = text;
       return true;
     }},
    {"webhooks.ingest_store_threads", ValueType::kInteger, "an integer 1-256",
     [](std::string_view text, Config& config) {
       return assign_count(text, 256u, config.webhooks.ingest_store_threads);
     }},
    {"webhooks.dispatch_store_threads", ValueType::kInteger, "an integer 1-64",
     [](std::string_view text, Config& config) {
       return assign_count(text, 64u, config.webhooks.dispatch_store_threads);
     }},
    {"webhooks.dispatch_batch", ValueType::kInteger, "an integer 1-10000",
     [](std::string_view text, Config& config) {
       return assign_count(text, 10000u, config.webhooks.dispatch_batch);
     }},
    {"webhooks.dispatch_per_community", ValueType::kInteger, "an integer 1-1000",
     [](std::string_view text, Config& config) {
       return assign_count(text, 1000u, config.webhooks.dispatch_per_community);
     }},
    {"webhooks.lease_seconds", ValueType::kInteger, "an integer 1-3600",
     [](std::string_view text, Config& config) {
       unsigned seconds = 0;
       if (!assign_count(text, 3600u, seconds)) return false;
       config.webhooks.lease = std::chrono::seconds(seconds);
       return true;
     }},
    {"webhooks.dedupe_retention_hours", ValueType::kInteger, "an integer 72-8760",
     [](std::string_view text, Config& config) {
       unsigned hours = 0;
       if (!assign_number(text, 8760u, hours) || hours < 72) return false;
       config.webhooks.dedupe_retention = std::chrono::hours(hours);
       return true;
     }},
    {"bot.community_budget", ValueType::kInteger, "an integer 1-100000",
     [](std::string_view text, Config& config) { return assign_count(text, 100000u, config.bot.community_budget); }},
    {"bot.budget_window_seconds", ValueType::kInteger, "an integer 1-86400",
     [](std::string_view text, Config& config) {
       unsigned seconds = 0;
       if (!assign_count(text, 86400u, seconds)) return false;
       config.bot.budget_window = std::chrono::seconds(seconds);
       return true;
     }},
    {"bot.thread_spacing_ms", ValueType::kInteger, "an integer 0-60000 (0: no spacing)",
     [](std::string_view text, Config& config) {
       unsigned milliseconds = 0;
       if (!assign_number(text, 60000u, milliseconds)) return false;
       config.bot.thread_spacing = std::chrono::milliseconds(milliseconds);
       return true;
     }},
    {"bot.thread_burst", ValueType::kInteger, "an integer 1-100",
     [](std::string_view text, Config& config) { return assign_count(text, 100u, config.bot.thread_burst); }},
    {"log.level", ValueType::kString, "one of trace, debug, info, warn, error, off",
     [](std::string_view text, Config& config) { return assign_choice(text, kLevels, config.log.level); }},
    {"log.format", ValueType::kString, "text or json",
     [](std::string_view text, Config& config) { return assign_choice(text, kFormats, config.log.format); }},
}};

constexpr std::array<SecretSetting, 5> kSecrets = {{
    {"app.secret", "app.secret_file", [](Secret value, Config& config) { config.app.secret = std::move(value); }},
    {"app.previous_secret", "app.previous_secret_file",
     [](Secret value, Config& config) { config.app.previous_secret = std::move(value); }},
    {"app.verify_token", "app.verify_token_file",
     [](Secret value, Config& config) { config.app.verify_token = std::move(value); }},
    {"store.postgres_url", "store.postgres_url_file",
     [](Secret value, Config& config) { config.store.postgres_url = std::move(value); }},
    {"keys.ring", "keys.ring_file", [](Secret value, Config& config) { config.keys.ring = std::move(value); }},
}};

// A value for a setting and where it came from: "WIK_SERVER_PORT" or "/etc/wik/wik.toml:3".
struct Supplied {
  std::string text;
  std::string origin;
};

// The values wik.toml gives, by setting key ("server.port", "app.secret_file").
using FileValues = std::map<std::string, Supplied, std::less<>>;

Error config_error(std::string reason) { return Error(ErrorCode::kConfig, std::move(reason)); }

std::string environment_variable(std::string_view key) {
  std::string name = "WIK_";
  for (const char c : key) name += c == '.' ? '_' : to_upper(c);
  return name;
}

// Returns the variable `name`, treating a set but empty variable as unset.
std::optional<std::string> lookup(const Environment& env, std::string_view name) {
  auto value = env.get(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

std::string_view describe(toml::node_type type) {
  switch (type) {
    case toml::node_type::none: return "nothing";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
  }
  return "an unknown value";
}

// Returns every key wik.toml may name, secrets included (naming those is an error of its own).
std::vector<std::string_view> known_keys() {
  std::vector<std::string_view> keys;
  for (const Setting& setting : kSettings) keys.push_back(setting.key);
  for (const SecretSetting& secret : kSecrets) {
    keys.push_back(secret.key);
    keys.push_back(secret.file_key);
  }
  return keys;
}

std::vector<std::string_view> section_names() {
  std::vector<std::string_view> sections;
  for (const std::string_view key : known_keys()) {
    const std::string_view section = key.substr(0, key.find('.'));
    if (std::ranges::find(sections, section) == sections.end()) sections.push_back(section);
  }
  return sections;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0u : 1u)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Returns " (did you mean X?)" for the candidate within two edits of `name`, or "" when none is.
std::string suggestion(std::string_view name, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  std::size_t best_distance = 3;
  for (const std::string_view candidate : candidates) {
    if (name.size() > candidate.size() + 2 || candidate.size() > name.size() + 2) continue;  // too far apart
    if (const std::size_t distance = edit_distance(name, candidate); distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best.empty() ? std::string() : fmt::format(" (did you mean {}?)", best);
}

// Returns a hint for `name` given outside any section: the section a setting of that name is in.
std::string section_hint(std::string_view name) {
  for (const std::string_view key : known_keys()) {
    const std::size_t dot = key.find('.');
    if (key.substr(dot + 1) == name) return fmt::format(" (did you mean {}, under [{}]?)", key, key.substr(0, dot));
  }
  return " (every setting belongs to a section such as [server])";
}

std::optional<std::string> node_text(const toml::node& node, ValueType type) {
  if (type == ValueType::kInteger) {
    if (const auto* integer = node.as_integer()) return std::to_string(integer->get());
  } else if (const auto* string = node.as_string()) {
    return string->get();
  } else if (const auto* time = node.as_date_time(); time != nullptr && type == ValueType::kTime) {
    std::ostringstream text;
    text << time->get();
    return text.str();
  }
  return std::nullopt;
}

// Returns the TOML type and description of the value `key` takes in wik.toml; nullopt if unknown.
std::optional<std::pair<ValueType, std::string_view>> file_value_type(std::string_view key) {
  for (const Setting& setting : kSettings) {
    if (setting.key == key) return std::pair(setting.type, setting.expected);
  }
  for (const SecretSetting& secret : kSecrets) {
    if (secret.file_key == key) return std::pair(ValueType::kString, kFilePath);
  }
  return std::nullopt;
}

Error inline_secret_error(const SecretSetting& secret, std::string_view origin) {
  return config_error(fmt::format(
      "{}: secrets are not accepted in the configuration file; put the value in a file and set {} to its "
      "path, or set the environment variable {} (from {})",
      secret.key, secret.file_key, environment_variable(secret.key), origin));
}

// Returns the settings in the configuration file `file`, each checked for its key and TOML type.
Result<FileValues> read_config_file(const fs::path& file) {
  auto text = read_small_file(file, kMaxConfigFileSize);
  if (!text) return text.error();
  toml::table root;
  try {
    root = toml::parse(*text, file.string());
  } catch (const toml::parse_error& e) {
    return config_error(fmt::format("{}:{}:{}: invalid TOML: {}", file.string(), e.source().begin.line,
                                    e.source().begin.column, printable(e.description(), 200)));
  }
  const auto where = [&file](const toml::node& node) {
    return fmt::format("{}:{}", file.string(), node.source().begin.line);
  };
  const std::vector<std::string_view> sections = section_names();
  FileValues values;
  for (const auto& [section_name, section_node] : root) {
    const std::string_view section = section_name.str();
    const toml::table* table = section_node.as_table();
    const bool known = std::ranges::find(sections, section) != sections.end();
    if (!known && table == nullptr) {
      return config_error(fmt::format("unknown setting {}{} (from {})", printable(section),
                                      section_hint(section), where(section_node)));
    }
    if (!known) {
      return config_error(fmt::format("unknown section {}{} (from {})", printable(section),
                                      suggestion(section, sections), where(section_node)));
    }
    if (table == nullptr) {
      return config_error(fmt::format("{}: expected a table ([{}]), got {} (from {})", section, section,
                                      describe(section_node.type()), where(section_node)));
    }
    for (const auto& [name, node] : *table) {
      const std::string key = fmt::format("{}.{}", section, name.str());
      for (const SecretSetting& secret : kSecrets) {
        if (secret.key == key) return inline_secret_error(secret, where(node));
      }
      const auto type = file_value_type(key);
      if (!type) {
        return config_error(fmt::format("unknown setting {}{} (from {})", printable(key),
                                        suggestion(key, known_keys()), where(node)));
      }
      auto value = node_text(node, type->first);
      if (!value) {
        return config_error(fmt::format("{}: expected {}, got {} (from {})", key, type->second,
                                        describe(node.type()), where(node)));
      }
      values.emplace(key, Supplied{std::move(*value), where(node)});
    }
  }
  return values;
}

// Returns the value for `key`: its environment variable if set, else the file's value, if any.
std::optional<Supplied> supplied(std::string_view key, const FileValues& file_values, const Environment& env) {
  std::string variable = environment_variable(key);
  if (auto value = lookup(env, variable)) return Supplied{std::move(*value), std::move(variable)};
  if (const auto found = file_values.find(key); found != file_values.end()) return found->second;
  return std::nullopt;
}

Error invalid_value(std::string_view key, std::string_view expected, const Supplied& value) {
  return config_error(
      fmt::format("{}: expected {}, got \"{}\" (from {})", key, expected, printable(value.text), value.origin));
}

// Checks the rotation settings as a pair: app.previous_secret_until is required with
// app.previous_secret and meaningless without it, and bounded to kMaxSecretRotationWindow after `now`.
Result<void> check_secret_rotation(const Config& config, const FileValues& file_values, const Environment& env,
                                   TimePoint now) {
  const auto until = supplied(kRotationEndKey, file_values, env);
  if (config.app.previous_secret.empty()) {
    if (!until) return ok_result();
    return config_error(fmt::format(
        "{}: set without app.previous_secret; remove it once a rotation is over (from {})", kRotationEndKey,
        until->origin));
  }
  if (!until) {
    return config_error(fmt::format("{}: required when app.previous_secret is set: the end of the rotation, {} at "
                                    "most {} days ahead",
                                    kRotationEndKey, kRotationEndExpected, kMaxSecretRotationWindow.count()));
  }
  if (*config.app.previous_secret_until > now + kMaxSecretRotationWindow) {
    return config_error(fmt::format("{}: expected a time at most {} days ahead, got \"{}\" (from {})", kRotationEndKey,
                                    kMaxSecretRotationWindow.count(), printable(until->text), until->origin));
  }
  if (config.app.secret.empty()) {
    return config_error("app.previous_secret: set without app.secret, the secret that replaces it");
  }
  if (core::constant_time_equal(config.app.previous_secret.expose(), config.app.secret.expose())) {
    return config_error("app.previous_secret: the same as app.secret; set it to the secret being replaced");
  }
  return ok_result();
}

Result<void> load_secret(const SecretSetting& secret, const FileValues& file_values, const Environment& env,
                         Config& config) {
  const std::string variable = environment_variable(secret.key);
  if (auto value = lookup(env, variable)) {
    const std::string file_variable = environment_variable(secret.file_key);
    if (lookup(env, file_variable)) {
      return config_error(fmt::format("{}: set {} or {}, not both", secret.key, variable, file_variable));
    }
    secret.store(Secret(std::move(*value)), config);
    return ok_result();
  }
  const auto file = supplied(secret.file_key, file_values, env);
  if (!file) return ok_result();
  if (file->text.empty()) return invalid_value(secret.file_key, kFilePath, *file);
  auto loaded = read_secret_file(file->text);
  if (!loaded) {
    return config_error(fmt::format("{}: {} (from {})", secret.file_key, loaded.error().reason(), file->origin));
  }
  secret.store(std::move(*loaded), config);
  return ok_result();
}

}  // namespace

Result<Config> load_config(const std::optional<fs::path>& file, const Environment& env, TimePoint now) {
  Config config;
  FileValues file_values;
  if (file) {
    auto read = read_config_file(*file);
    if (!read) return read.error();
    file_values = std::move(*read);
    config.source = file->string();
  }
  for (const Setting& setting : kSettings) {
    const auto value = supplied(setting.key, file_values, env);
    if (value && !setting.apply(value->text, config)) return invalid_value(setting.key, setting.expected, *value);
  }
  for (const SecretSetting& secret : kSecrets) {
    if (auto loaded = load_secret(secret, file_values, env, config); !loaded) return loaded.error();
  }
  if (auto rotation = check_secret_rotation(config, file_values, env, now); !rotation) return rotation.error();
  if (config.store.engine == StoreEngine::kPostgres && config.store.postgres_url.empty()) {
    return config_error(
        "store.postgres_url: required when store.engine is postgres (set WIK_STORE_POSTGRES_URL, or "
        "store.postgres_url_file to a file that holds it)");
  }
  return config;
}

Result<void> require_app_credentials(const Config& config) {
  std::string missing;
  if (config.app.id.empty()) missing = "app.id is not set (set app.id in the configuration file, or WIK_APP_ID)";
  if (config.app.secret.empty()) {
    if (!missing.empty()) missing += "; ";
    missing += "app.secret is not set (set app.secret_file or WIK_APP_SECRET_FILE to a file that holds it, or "
               "WIK_APP_SECRET)";
  }
  if (missing.empty()) return ok_result();
  return config_error(std::move(missing));
}

std::vector<Secret> incoming_app_secrets(const Config& config, TimePoint now) {
  std::vector<Secret> secrets;
  if (config.app.secret.empty()) return secrets;
  secrets.push_back(config.app.secret);
  const auto& until = config.app.previous_secret_until;
  if (!config.app.previous_secret.empty() && until && now < *until) secrets.push_back(config.app.previous_secret);
  return secrets;
}

std::vector<std::string> config_warnings(const Config& config, TimePoint now) {
  std::vector<std::string> warnings;
  const auto& until = config.app.previous_secret_until;
  if (!config.app.previous_secret.empty() && until && now >= *until) {
    warnings.push_back(fmt::format(
        "app.previous_secret: its rotation window ended at {}, so it verifies nothing any more; remove "
        "app.previous_secret and app.previous_secret_until",
        utc_text(*until)));
  }
  return warnings;
}

std::optional<fs::path> default_config_path(const Environment& env) {
  if (auto named = lookup(env, "WIK_CONFIG")) return fs::path(*named);
  std::error_code ignored;
  if (fs::exists(kDefaultConfigFile, ignored)) return fs::path(kDefaultConfigFile);
  return std::nullopt;
}

}  // namespace wik::config

namespace wik {

Result<Config> load_config(const std::optional<std::filesystem::path>& file) {
  const config::ProcessEnvironment environment;
  return config::load_config(file ? file : config::default_config_path(environment), environment);
}

}  // namespace wik
