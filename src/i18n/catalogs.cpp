#include <wik/i18n.h>

#include <unicode/localematcher.h>
#include <unicode/locid.h>
#include <unicode/utypes.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <system_error>

#include "i18n/builtin_catalogs.h"
#include "i18n/catalog_file.h"
#include "i18n/message.h"

namespace wik {
namespace {

namespace fs = std::filesystem;
using i18n::Message;
using i18n::Problem;

// One pattern of a catalog and the file it came from.
struct Entry {
  std::string pattern;
  std::string file;
};

// One locale's strings: the kit's built-in ones with the integration's laid over them.
struct Catalog {
  std::string file;  // the integration's file for this locale, else the built-in one
  std::map<std::string, Entry, std::less<>> entries;
};

using CatalogMap = std::map<std::string, Catalog, std::less<>>;

// A message as one supported locale shows it, and the file its pattern came from.
struct Compiled {
  Message message;
  std::string file;
};

using View = std::map<std::string, Compiled, std::less<>>;

// Lays the patterns of catalog text `json`, read from `file`, over `locale`'s strings.
void add_catalog(CatalogMap& catalogs, const std::string& locale, const std::string& file, std::string_view json,
                 std::vector<Problem>& problems) {
  Catalog& catalog = catalogs[locale];
  catalog.file = file;
  for (auto& [key, pattern] : i18n::parse_catalog(file, json, problems)) {
    catalog.entries.insert_or_assign(key, Entry{std::move(pattern), file});
  }
}

// Returns the built-in catalogs. They are part of the build, so a broken one is a bug: it aborts
// (and the kit's tests catch it first).
const CatalogMap& builtin_catalog_map() {
  static const CatalogMap kCatalogs = [] {
    CatalogMap catalogs;
    std::vector<Problem> problems;
    for (const i18n::EmbeddedCatalog& embedded : i18n::builtin_catalogs()) {
      const std::string locale(embedded.locale);
      const std::string file = "built-in " + locale + ".json";
      if (!i18n::is_locale_name(locale)) problems.push_back({ErrorCode::kInvalidArgument, file, {}, "not a locale"});
      add_catalog(catalogs, locale, file, embedded.json, problems);
    }
    if (!problems.empty()) fatal(i18n::to_error("wik's built-in catalogs are broken:", problems).reason());
    return catalogs;
  }();
  return kCatalogs;
}

// Returns whether `locale` or one of its ancestors has a catalog.
bool has_catalog(const CatalogMap& catalogs, std::string_view locale) {
  const auto chain = i18n::locale_chain(locale);
  return std::any_of(chain.begin(), chain.end(), [&](const std::string& l) { return catalogs.contains(l); });
}

// Returns the text of catalog file `path`, or nullopt after appending a problem when it cannot be
// read or is larger than Catalogs::kMaxFileBytes.
std::optional<std::string> read_catalog(const fs::path& path, std::vector<Problem>& problems) {
  std::ifstream in(path, std::ios::binary);
  std::string text(Catalogs::kMaxFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad() || (in.fail() && !in.eof())) {
    problems.push_back({ErrorCode::kUnavailable, path.string(), {}, "cannot be read"});
    return std::nullopt;
  }
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > Catalogs::kMaxFileBytes) {
    problems.push_back({ErrorCode::kTooLarge, path.string(), {},
                        "larger than the limit of " + std::to_string(Catalogs::kMaxFileBytes) + " bytes"});
    return std::nullopt;
  }
  return text;
}

// Returns "{a, b}".
std::string list_names(const std::vector<std::string>& names) {
  std::string text = "{";
  for (const std::string& name : names) text += (text.size() > 1 ? ", " : "") + name;
  return text + "}";
}

std::vector<std::string> sorted_unique(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

icu::LocaleMatcher make_matcher(const std::vector<std::string>& supported, const std::string& default_locale) {
  std::vector<icu::Locale> locales;
  for (const std::string& locale : supported) locales.emplace_back(locale.c_str());
  const icu::Locale fallback(default_locale.c_str());
  UErrorCode status = U_ZERO_ERROR;
  icu::LocaleMatcher::Builder builder;
  builder.setSupportedLocales(locales.begin(), locales.end()).setDefaultLocale(&fallback);
  icu::LocaleMatcher matcher = builder.build(status);
  if (U_FAILURE(status)) fatal(std::string("ICU cannot build a locale matcher: ") + u_errorName(status));
  return matcher;
}

}  // namespace

struct Catalogs::State {
  // Compiles every message each supported locale shows, appending a problem per bad pattern.
  // `supported_in` holds default_locale_in, in any order, possibly more than once.
  State(std::string default_locale_in, std::vector<std::string> supported_in, CatalogMap catalogs_in,
        std::vector<Problem>& problems)
      : default_locale(std::move(default_locale_in)),
        supported(sorted_unique(std::move(supported_in))),
        catalogs(std::move(catalogs_in)),
        matcher(make_matcher(supported, default_locale)) {
    for (const std::string& locale : supported) {
      View& view = views[locale];
      for (const std::string& ancestor : i18n::locale_chain(locale)) {
        const auto catalog = catalogs.find(ancestor);
        if (catalog == catalogs.end()) continue;
        for (const auto& [key, entry] : catalog->second.entries) {
          if (view.contains(key)) continue;
          auto message = Message::compile(entry.pattern, locale);
          if (message.ok()) {
            view.emplace(key, Compiled{std::move(message).value(), entry.file});
          } else {
            problems.push_back({message.error().code(), entry.file, key, message.error().reason()});
          }
        }
      }
    }
  }

  // Returns the file that holds (or would hold) `locale`'s own strings.
  std::string file_of(const std::string& locale) const {
    const auto catalog = catalogs.find(locale);
    return catalog != catalogs.end() ? catalog->second.file : locale + ".json";
  }

  std::string default_locale;
  std::vector<std::string> supported;  // sorted; holds default_locale
  CatalogMap catalogs;                 // every locale with strings, supported or not
  std::map<std::string, View, std::less<>> views;  // by supported locale: every key its chain has
  icu::LocaleMatcher matcher;          // immutable, so safe to share between threads
};

Catalogs::Catalogs(std::shared_ptr<const State> state) : state_(std::move(state)) {}

Result<Catalogs> Catalogs::load(const std::filesystem::path& folder, std::string default_locale) {
  if (!i18n::is_locale_name(default_locale)) {
    return Error(ErrorCode::kInvalidArgument,
                 "the default locale \"" + default_locale + "\" is not a locale name such as en or pt_BR");
  }
  std::error_code error;
  std::vector<fs::path> files;
  fs::directory_iterator it(folder, error);
  if (error) {
    return Error(ErrorCode::kNotFound, "cannot open the catalog folder " + folder.string() + ": " + error.message());
  }
  for (; !error && it != fs::directory_iterator(); it.increment(error)) {
    std::error_code ignored;  // a .json entry that cannot be examined is reported when it cannot be read
    if (it->path().extension() == ".json" && !it->is_directory(ignored)) files.push_back(it->path());
  }
  if (error) {
    return Error(ErrorCode::kUnavailable, "cannot list the catalog folder " + folder.string() + ": " + error.message());
  }
  std::sort(files.begin(), files.end());

  CatalogMap catalogs = builtin_catalog_map();
  std::vector<std::string> supported = {default_locale};
  std::vector<Problem> problems;
  for (const fs::path& path : files) {
    const std::string locale = path.stem().string();
    if (!i18n::is_locale_name(locale)) {
      problems.push_back({ErrorCode::kInvalidArgument, path.string(), {},
                          "not named after a locale, as in fr.json, fr_CA.json or zh_Hant_TW.json"});
      continue;
    }
    const std::optional<std::string> text = read_catalog(path, problems);
    if (!text) continue;
    add_catalog(catalogs, locale, path.string(), *text, problems);
    supported.push_back(locale);
  }
  if (!has_catalog(catalogs, default_locale)) {
    problems.push_back({ErrorCode::kInvalidArgument, (folder / (default_locale + ".json")).string(), {},
                        "missing: the default locale needs a catalog"});
  }
  auto state =
      std::make_shared<const State>(std::move(default_locale), std::move(supported), std::move(catalogs), problems);
  if (!problems.empty()) return i18n::to_error("bad message catalogs in " + folder.string() + ":", std::move(problems));
  return Catalogs(std::move(state));
}

Catalogs Catalogs::builtin(std::string default_locale) {
  const CatalogMap& catalogs = builtin_catalog_map();
  if (!i18n::is_locale_name(default_locale) || !has_catalog(catalogs, default_locale)) default_locale = "en";
  std::vector<std::string> supported = {default_locale};
  for (const auto& [locale, catalog] : catalogs) supported.push_back(locale);
  std::vector<Problem> problems;
  auto state = std::make_shared<const State>(std::move(default_locale), std::move(supported), catalogs, problems);
  if (!problems.empty()) fatal(i18n::to_error("wik's built-in catalogs are broken:", std::move(problems)).reason());
  return Catalogs(std::move(state));
}

std::string Catalogs::text(std::string_view locale, std::string_view key, const MessageArgs& args,
                           std::string_view time_zone) const {
  const std::string resolved = resolve(locale);
  for (const std::string* shown_in : {&resolved, &state_->default_locale}) {
    const View& view = state_->views.at(*shown_in);
    const auto found = view.find(key);
    if (found == view.end()) continue;
    if (auto formatted = found->second.message.format(args, time_zone)) return *std::move(formatted);
    break;
  }
  return "[[" + std::string(key) + "]]";
}

Result<void> Catalogs::check() const {
  const State& state = *state_;
  const std::string& reference_locale = state.default_locale;
  const View& reference = state.views.at(reference_locale);
  std::vector<Problem> problems;
  for (const std::string& locale : state.supported) {
    if (locale == reference_locale) continue;
    const View& view = state.views.at(locale);
    for (const auto& [key, expected] : reference) {
      const auto found = view.find(key);
      if (found == view.end()) {
        problems.push_back({ErrorCode::kInvalidArgument, state.file_of(locale), key,
                            "missing (the default locale " + reference_locale + " has it)"});
      } else if (found->second.message.argument_names() != expected.message.argument_names()) {
        problems.push_back({ErrorCode::kInvalidArgument, found->second.file, key,
                            "uses the arguments " + list_names(found->second.message.argument_names()) + " where " +
                                reference_locale + " uses " + list_names(expected.message.argument_names())});
      }
    }
    for (const auto& [key, compiled] : view) {
      if (!reference.contains(key)) {
        problems.push_back({ErrorCode::kInvalidArgument, compiled.file, key,
                            "not in the default locale " + reference_locale});
      }
    }
  }
  if (problems.empty()) return ok_result();
  return i18n::to_error("message catalogs fail their check:", std::move(problems));
}

std::vector<std::string> Catalogs::locales() const { return state_->supported; }

const std::string& Catalogs::default_locale() const noexcept { return state_->default_locale; }

std::string Catalogs::resolve(std::string_view platform_locale) const {
  const State& state = *state_;
  if (std::binary_search(state.supported.begin(), state.supported.end(), platform_locale)) {
    return std::string(platform_locale);
  }
  // A POSIX locale's charset and modifier ("fr_CA.UTF-8", "de_DE@euro") say nothing of its language.
  const std::string name(platform_locale.substr(0, platform_locale.find_first_of(".@")));
  const icu::Locale desired(name.c_str());
  UErrorCode status = U_ZERO_ERROR;
  const icu::LocaleMatcher::Result match = state.matcher.getBestMatchResult(desired, status);
  const int32_t index = match.getSupportedIndex();
  if (desired.isBogus() || U_FAILURE(status) || index < 0) return state.default_locale;
  return state.supported[static_cast<std::size_t>(index)];
}

}  // namespace wik
