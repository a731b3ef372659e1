#include "reliability/secret_scan.h"

#include <algorithm>
#include <array>
#include <bitset>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "core/hex.h"
#include "core/hmac.h"

namespace wik::reliability {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kPrefixSize = kMinSecretSize;  // every pattern is at least this long
// Path segments longer than this are not printed in a finding: they may be tokens.
constexpr std::size_t kMaxPrintedSegment = 20;

// --- capture files -------------------------------------------------------------------------

struct Record {
  std::string type;   // log, response or secret
  std::string label;  // the logger; "<server> <method> <route> <path>"; the secret's kind
  std::string payload;
};

struct CaptureFile {
  std::vector<Record> records;
  bool truncated = false;
};

// Reads `path`, a sequence of "@<type> <size> <label>\n<payload>\n" records. A last record cut
// off (the process was killed while writing it) is dropped and reported as truncated.
Result<CaptureFile> read_capture_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, "cannot read " + path.string());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CaptureFile file;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end_of_head = text.find('\n', at);
    if (end_of_head == std::string::npos) {
      file.truncated = true;
      break;
    }
    std::istringstream head(text.substr(at, end_of_head - at));
    std::string type;
    std::size_t size = 0;
    if (text[at] != '@' || !(head >> type >> size)) {
      return Error(ErrorCode::kMalformed, "not a capture file: " + path.filename().string());
    }
    std::string label;
    std::getline(head >> std::ws, label);
    const std::size_t payload_at = end_of_head + 1;
    if (payload_at + size + 1 > text.size()) {
      file.truncated = true;
      break;
    }
    file.records.push_back({type.substr(1), std::move(label), text.substr(payload_at, size)});
    at = payload_at + size + 1;
  }
  return file;
}

// --- encodings -----------------------------------------------------------------------------

constexpr std::string_view kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64Url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Returns the base64 text of the whole 3-byte groups of `bytes`: what any text that base64-encodes
// `bytes` from a group boundary contains, whatever follows.
std::string encode_whole_groups(std::string_view bytes, std::string_view alphabet) {
  std::string out;
  for (std::size_t i = 0; i + 3 <= bytes.size(); i += 3) {
    const auto b = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + k])); };
    const std::uint32_t group = b(0) << 16 | b(1) << 8 | b(2);
    for (int shift : {18, 12, 6, 0}) out.push_back(alphabet[group >> shift & 0x3F]);
  }
  return out;
}

bool is_printable_ascii(std::string_view value) {
  return std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | code_point >> 6));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | code_point >> 12));
    out.push_back(static_cast<char>(0x80 | (code_point >> 6 & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | code_point >> 18));
    out.push_back(static_cast<char>(0x80 | (code_point >> 12 & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point >> 6 & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// Decodes every %XX; anything else (a stray %, a +) stays as it is.
std::string percent_decoded(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 && hex_digit(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// Undoes JSON string escapes (\" \\ \/ \b \f \n \r \t \uXXXX, surrogate pairs joined).
std::string json_unescaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto read_hex4 = [&](std::size_t at) -> std::optional<std::uint32_t> {
    if (at + 4 > text.size()) return std::nullopt;
    std::uint32_t value = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const int digit = hex_digit(text[at + k]);
      if (digit < 0) return std::nullopt;
      value = value * 16 + static_cast<std::uint32_t>(digit);
    }
    return value;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out.push_back(text[i]);
      continue;
    }
    const char escaped = text[++i];
    switch (escaped) {
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        auto unit = read_hex4(i + 1);
        if (!unit) {
          out.append("\\u");
          break;
        }
        i += 4;
        std::uint32_t code_point = *unit;
        if (code_point >= 0xD800 && code_point < 0xDC00 && i + 2 < text.size() && text[i + 1] == '\\' &&
            text[i + 2] == 'u') {
          if (auto low = read_hex4(i + 3); low && *low >= 0xDC00 && *low < 0xE000) {
            code_point = 0x10000 + ((code_point - 0xD800) << 10) + (*low - 0xDC00);
            i += 6;
          }
        }
        append_utf8(code_point, out);
        break;
      }
      default: out.push_back(escaped); break;  // \" \\ \/ and anything unknown
    }
  }
  return out;
}

// Undoes HTML character references: the named five and numeric ones (&#39; &#x2F;).
std::string html_unescaped(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, char>, 5> kNamed = {
      {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}}};
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out.push_back(text[i]);
      continue;
    }
    const std::string_view rest = text.substr(i);
    const auto named =
        std::find_if(kNamed.begin(), kNamed.end(), [&](const auto& n) { return rest.starts_with(n.first); });
    if (named != kNamed.end()) {
      out.push_back(named->second);
      i += named->first.size() - 1;
      continue;
    }
    const std::size_t semicolon = rest.find(';');
    if (rest.starts_with("&#") && semicolon != std::string_view::npos && semicolon <= 10) {
      const bool hex = rest.size() > 2 && (rest[2] == 'x' || rest[2] == 'X');
      const std::string_view digits = rest.substr(hex ? 3 : 2, semicolon - (hex ? 3 : 2));
      std::uint32_t code_point = 0;
      bool valid = !digits.empty();
      for (char c : digits) {
        const int digit = hex ? hex_digit(c) : (c >= '0' && c <= '9' ? c - '0' : -1);
        if (digit < 0) valid = false;
        code_point = code_point * (hex ? 16u : 10u) + static_cast<std::uint32_t>(std::max(digit, 0));
      }
      if (valid && code_point <= 0x10FFFF) {
        append_utf8(code_point, out);
        i += semicolon;
        continue;
      }
    }
    out.push_back('&');
  }
  return out;
}

// The forms in which an output is searched: as written, then decoded where it has something to decode.
std::vector<std::pair<std::string_view, std::string>> searchable_forms(std::string_view text) {
  std::vector<std::pair<std::string_view, std::string>> forms;
  forms.emplace_back("", std::string(text));
  const auto add = [&](std::string_view name, std::string decoded) {
    for (const auto& form : forms) {
      if (form.second == decoded) return;
    }
    forms.emplace_back(name, std::move(decoded));
  };
  const bool percent = text.find('%') != std::string_view::npos;
  const bool json = text.find('\\') != std::string_view::npos;
  const bool html = text.find('&') != std::string_view::npos;
  if (percent) add(", percent-decoded", percent_decoded(text));
  if (json) add(", JSON-unescaped", json_unescaped(text));
  if (html) add(", HTML-unescaped", html_unescaped(text));
  if (html && percent) add(", HTML-unescaped and percent-decoded", percent_decoded(html_unescaped(text)));
  if (json && percent) add(", JSON-unescaped and percent-decoded", percent_decoded(json_unescaped(text)));
  return forms;
}

// --- the search ----------------------------------------------------------------------------

struct Secret {
  std::string value;
  std::string kind;
};

struct Pattern {
  std::string bytes;
  std::size_t secret;     // index into the secrets
  std::string_view form;  // "as is", "base64url", ...
};

// Finds every pattern (each at least kPrefixSize bytes) in a text: the first kPrefixSize bytes at
// each position are filtered through a bitset of their hashes, and the few that pass are looked up.
class PatternSet {
 public:
  explicit PatternSet(std::vector<Pattern> patterns)
      : patterns_(std::move(patterns)), filter_(std::make_unique<Filter>()) {
    for (std::size_t i = 0; i < patterns_.size(); ++i) {
      const std::uint64_t prefix = prefix_at(patterns_[i].bytes, 0);
      filter_->set(slot(prefix));
      by_prefix_[prefix].push_back(i);
    }
  }

  // Calls `found(pattern)` for every pattern that occurs in `text` (once per occurrence).
  void search(std::string_view text, const std::function<void(const Pattern&)>& found) const {
    if (text.size() < kPrefixSize) return;
    for (std::size_t at = 0; at + kPrefixSize <= text.size(); ++at) {
      const std::uint64_t prefix = prefix_at(text, at);
      if (!filter_->test(slot(prefix))) continue;
      const auto candidates = by_prefix_.find(prefix);
      if (candidates == by_prefix_.end()) continue;
      for (std::size_t index : candidates->second) {
        const Pattern& pattern = patterns_[index];
        if (text.substr(at, pattern.bytes.size()) == pattern.bytes) found(pattern);
      }
    }
  }

 private:
  static constexpr std::size_t kFilterBits = std::size_t{1} << 24;
  using Filter = std::bitset<kFilterBits>;

  static std::uint64_t prefix_at(std::string_view text, std::size_t at) {
    std::uint64_t prefix = 0;
    std::memcpy(&prefix, text.data() + at, sizeof prefix);
    return prefix;
  }
  static std::size_t slot(std::uint64_t prefix) { return (prefix * 0x9E3779B97F4A7C15ULL) >> 40; }

  std::vector<Pattern> patterns_;
  std::unique_ptr<Filter> filter_;
  std::unordered_map<std::uint64_t, std::vector<std::size_t>> by_prefix_;
};

// Returns the patterns for `secrets`: each as it is, base64 and base64url in the three alignments,
// and hex when it is not printable ASCII.
std::vector<Pattern> patterns_of(const std::vector<Secret>& secrets) {
  std::vector<Pattern> patterns;
  for (std::size_t i = 0; i < secrets.size(); ++i) {
    const std::string& value = secrets[i].value;
    std::set<std::string> seen;
    const auto add = [&](std::string bytes, std::string_view form) {
      if (bytes.size() >= kPrefixSize && seen.insert(bytes).second) patterns.push_back({std::move(bytes), i, form});
    };
    add(value, "as is");
    for (std::size_t skip = 0; skip < 3 && skip < value.size(); ++skip) {
      add(encode_whole_groups(std::string_view(value).substr(skip), kBase64), "base64");
      add(encode_whole_groups(std::string_view(value).substr(skip), kBase64Url), "base64url");
    }
    if (!is_printable_ascii(value)) {
      std::string hex = core::to_hex(value);
      std::string upper = hex;
      std::transform(upper.begin(), upper.end(), upper.begin(),
                     [](char c) { return c >= 'a' && c <= 'f' ? static_cast<char>(c - 32) : c; });
      add(std::move(hex), "hex");
      add(std::move(upper), "upper-case hex");
    }
  }
  return patterns;
}

// --- carriers ------------------------------------------------------------------------------

bool is_value_end(char c) { return std::string_view("&#\"'<> ;\r\n").find(c) != std::string_view::npos; }

// Returns every value `text` gives the parameter `name`: as a URL or form parameter (name=value,
// after ?, &, ;, a space or a quote, or at the start), an HTML form field (name="name"
// value="value") or a JSON string member ("name":"value"). `text` is expected decoded (see
// carried_values).
std::set<std::string> values_named(std::string_view text, std::string_view name) {
  std::set<std::string> values;
  const auto read_until = [&](std::size_t from, auto stop) {
    std::size_t to = from;
    while (to < text.size() && !stop(text[to])) ++to;
    return std::string(text.substr(from, to - from));
  };
  const std::string parameter = std::string(name) + "=";
  for (std::size_t at = text.find(parameter); at != std::string_view::npos; at = text.find(parameter, at + 1)) {
    if (at == 0 || std::string_view("?&; \"'").find(text[at - 1]) != std::string_view::npos) {
      values.insert(read_until(at + parameter.size(), is_value_end));
    }
  }
  const std::string field = "name=\"" + std::string(name) + "\" value=\"";
  for (std::size_t at = text.find(field); at != std::string_view::npos; at = text.find(field, at + 1)) {
    values.insert(read_until(at + field.size(), [](char c) { return c == '"'; }));
  }
  const std::string member = "\"" + std::string(name) + "\":\"";
  for (std::size_t at = text.find(member); at != std::string_view::npos; at = text.find(member, at + 1)) {
    values.insert(read_until(at + member.size(), [](char c) { return c == '"'; }));
  }
  values.erase("");
  return values;
}

// Returns the values of parameter `name` in `text`, decoded as far as it goes: HTML references and
// JSON escapes undone, then percent-decoded up to three times (a URL inside a URL's parameter).
std::set<std::string> carried_values(std::string_view text, std::string_view name) {
  std::string decoded = json_unescaped(html_unescaped(text));
  std::set<std::string> values = values_named(decoded, name);
  for (int round = 0; round < 3 && decoded.find('%') != std::string::npos; ++round) {
    decoded = percent_decoded(decoded);
    values.merge(values_named(decoded, name));
  }
  return values;
}

// Returns `path` without a leading Graph version segment ("/v17.0/oauth/..." -> "/oauth/...").
std::string_view without_version(std::string_view path) {
  if (path.size() > 2 && path[0] == '/' && path[1] == 'v') {
    const std::size_t next = path.find('/', 1);
    const std::string_view segment = path.substr(2, (next == std::string_view::npos ? path.size() : next) - 2);
    if (!segment.empty() &&
        std::all_of(segment.begin(), segment.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; })) {
      return next == std::string_view::npos ? std::string_view("/") : path.substr(next);
    }
  }
  return path;
}

// --- responses -----------------------------------------------------------------------------

struct ResponseLabel {
  std::string server;
  std::string method;
  std::string route;
  std::string path;
};

ResponseLabel parse_response_label(const std::string& label) {
  std::istringstream in(label);
  ResponseLabel parsed;
  in >> parsed.server >> parsed.method >> parsed.route >> parsed.path;
  return parsed;
}

// Returns `path` with long segments (which may be tokens) replaced by "...", for printing.
std::string printable_path(std::string_view path) {
  std::string out;
  std::size_t at = 0;
  while (at < path.size()) {
    std::size_t end = path.find('/', at + 1);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(at, end - at);
    out += segment.size() > kMaxPrintedSegment + 1 ? std::string("/...") : std::string(segment);
    at = end;
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// One searchable piece of an output: its text, how a finding names it, and the secret values the
// protocol lets it carry.
struct Unit {
  std::string where;
  std::string text;
  std::set<std::string> carried;
};

bool carrier_applies(const Carrier& carrier, const ResponseLabel& label) {
  // A test's own server (unnamed) serves the kit's or the emulator's routes as the real one does.
  if (carrier.server != label.server && label.server != "unnamed") return false;
  return carrier.exchange == label.method + " " + label.route ||
         carrier.exchange == label.method + " " + std::string(without_version(label.path));
}

// Adds to `unit` the values the carriers that apply to `part` let it carry.
void allow_carried(Unit& unit, const std::vector<const Carrier*>& applicable, CarrierPlace part) {
  for (const Carrier* carrier : applicable) {
    if (carrier->place == part) unit.carried.merge(carried_values(unit.text, carrier->name));
  }
}

// Splits a response into its status line, headers and body, each with the values it may carry.
std::vector<Unit> response_units(const std::string& wire, const ResponseLabel& label) {
  const std::string prefix =
      "response " + label.server + " " + label.method + " " + label.route + " " + printable_path(label.path);
  std::vector<const Carrier*> applicable;
  for (const Carrier& carrier : carriers()) {
    if (carrier_applies(carrier, label)) applicable.push_back(&carrier);
  }
  std::vector<Unit> units;
  const std::size_t head_end = wire.find("\r\n\r\n");
  const std::string_view head =
      std::string_view(wire).substr(0, head_end == std::string::npos ? wire.size() : head_end);
  for (std::size_t at = 0, line_number = 0; at <= head.size(); ++line_number) {
    std::size_t end = head.find("\r\n", at);
    if (end == std::string_view::npos) end = head.size();
    const std::string_view line = head.substr(at, end - at);
    at = end + 2;
    if (line_number == 0) {
      units.push_back({prefix + " status line", std::string(line), {}});
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name(line.substr(0, colon));
    Unit unit{prefix + " header " + name, std::string(line.substr(colon + 1)), {}};
    if (iequals(name, "Location")) allow_carried(unit, applicable, CarrierPlace::kLocation);
    if (iequals(name, "Set-Cookie")) allow_carried(unit, applicable, CarrierPlace::kSetCookie);
    units.push_back(std::move(unit));
  }
  if (head_end != std::string::npos) {
    Unit body{prefix + " body", wire.substr(head_end + 4), {}};
    allow_carried(body, applicable, CarrierPlace::kBody);
    units.push_back(std::move(body));
  }
  return units;
}

std::string secret_hash(std::string_view value) { return core::to_hex(core::sha256(value)).substr(0, 12); }

}  // namespace

const std::vector<Carrier>& carriers() {
  using enum CarrierPlace;
  constexpr std::string_view kCodeExchange =
      "the code exchange hands the install's access token to the kit (PROTOCOL.md section 2.3)";
  constexpr std::string_view kControlInstall =
      "the control API installs for a test and shows it the token, as the code exchange would (docs/emulator.md)";
  constexpr std::string_view kOAuthState =
      "the authorization request and its redirect back carry the CSRF state (RFC 6749 sections 4.1.1, 4.1.2)";
  constexpr std::string_view kSession = "the sign-in sets the session cookie (docs/install.md)";
  constexpr std::string_view kPending =
      "the pending install is bound to the browser by a random id in a cookie (docs/install.md)";
  constexpr std::string_view kDeliveries =
      "the control API shows a test what the platform sent: the deauthorization's signed_request, the "
      "verification's verify token (docs/emulator.md)";
  constexpr std::string_view kLinkToken =
      "the single-use account link returns to the browser that opened it, through the sign-in (docs/identities.md)";
  static const std::vector<Carrier> kCarriers = {
      {"emulator-graph", "GET /oauth/access_token", kBody, "access_token", kCodeExchange},
      {"emulator-graph", "POST /oauth/access_token", kBody, "access_token", kCodeExchange},
      {"emulator-web", "POST /_emulator/apps/{app_id}/install", kBody, "access_token", kControlInstall},
      {"emulator-web", "GET /_emulator/installs", kBody, "access_token", kControlInstall},
      {"kit", "POST /admin/install", kLocation, "state", kOAuthState},
      {"emulator-web", "GET /dialog/work/app_install", kLocation, "state", kOAuthState},
      {"emulator-web", "GET /dialog/work/app_install", kBody, "state", kOAuthState},
      {"emulator-web", "GET /", kBody, "state", kOAuthState},
      {"emulator-web", "POST /login", kLocation, "state", kOAuthState},
      {"emulator-web", "POST /dialog/work/app_install", kLocation, "state", kOAuthState},
      {"kit", "POST /signin", kSetCookie, "wik_sessions", kSession},
      {"kit", "POST /signin", kSetCookie, "__Host-wik_sessions", kSession},
      {"kit", "GET /workplace/install", kSetCookie, "wik_pending", kPending},
      {"kit", "GET /workplace/install", kSetCookie, "__Host-wik_pending", kPending},
      {"emulator-web", "GET /_emulator/deliveries", kBody, "signed_request", kDeliveries},
      {"emulator-web", "GET /_emulator/deliveries", kBody, "hub.verify_token", kDeliveries},
      {"kit", "GET /link", kBody, "t", kLinkToken},
      {"kit", "POST /link", kBody, "t", kLinkToken},
      {"kit", "GET /signin", kBody, "t", kLinkToken},
      {"kit", "POST /signin", kBody, "t", kLinkToken},
      {"kit", "POST /signin", kLocation, "t", kLinkToken},
  };
  return kCarriers;
}

Result<ScanReport> scan_capture(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error(ErrorCode::kNotFound, "no capture directory " + dir.string());
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file()) paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());

  ScanReport report;
  std::set<std::string> processes;
  std::map<std::string, std::string> kinds;  // secret value -> its most specific kind
  std::vector<std::pair<std::string, CaptureFile>> outputs;
  for (const fs::path& path : paths) {
    const std::string extension = path.extension().string();
    if (extension != ".outputs" && extension != ".secrets") continue;
    auto file = read_capture_file(path);
    if (!file) return file.error();
    processes.insert(path.stem().string());
    if (file->truncated) ++report.truncated_files;
    if (extension == ".secrets") {
      for (Record& record : file->records) {
        auto [it, inserted] = kinds.emplace(std::move(record.payload), record.label);
        if (!inserted && it->second == "secret") it->second = record.label;
      }
    } else {
      outputs.emplace_back(path.filename().string(), std::move(*file));
    }
  }
  report.processes = processes.size();

  std::vector<Secret> secrets;
  for (auto& [value, kind] : kinds) {
    if (value.size() < kMinSecretSize || std::set<char>(value.begin(), value.end()).size() < kMinDistinctBytes) {
      ++report.short_secrets;
    } else {
      secrets.push_back({value, kind});
    }
  }
  report.secrets = secrets.size();
  const PatternSet patterns(patterns_of(secrets));

  for (const auto& [name, file] : outputs) {
    for (const Record& record : file.records) {
      std::vector<Unit> units;
      if (record.type == "log") {
        ++report.log_lines;
        units.push_back({"log " + record.label, record.payload});
      } else if (record.type == "response") {
        ++report.responses;
        units = response_units(record.payload, parse_response_label(record.label));
      } else {
        continue;
      }
      report.bytes += record.payload.size();
      for (const Unit& unit : units) {
        std::set<std::size_t> reported;  // one finding per secret and unit
        for (const auto& [decoding, text] : searchable_forms(unit.text)) {
          patterns.search(text, [&](const Pattern& pattern) {
            if (!reported.insert(pattern.secret).second) return;
            const Secret& secret = secrets[pattern.secret];
            const auto carries = [&](const std::string& value) {
              return value.find(pattern.bytes) != std::string::npos;
            };
            if (std::any_of(unit.carried.begin(), unit.carried.end(), carries)) {
              ++report.carried_values;
              return;
            }
            report.findings.push_back({name, unit.where, secret.kind, std::string(pattern.form) + std::string(decoding),
                                       secret_hash(secret.value)});
          });
        }
      }
    }
  }
  return report;
}

std::string report_line(const ScanReport& report) {
  return fmt::format("B5 secrets: processes={}, log lines={}, responses={}, secrets={}, found={}", report.processes,
                     report.log_lines, report.responses, report.secrets, report.findings.size());
}

}  // namespace wik::reliability
