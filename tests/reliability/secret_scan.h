// The B5 secret scan (docs/RELIABILITY.md): reads a capture directory that a test run filled
// (core/output_capture.h: one .outputs and one .secrets file per process), gathers the secrets of
// every process, and looks for each of them in every captured log line and HTTP response.
//
// A secret counts when it is at least kMinSecretSize bytes long and not a filler (see below). It is
// looked for as it is, base64 and base64url encoded (each of the three alignments, so inside a
// longer encoded text too), and, for a value that is not printable ASCII, as lower- and upper-case
// hex. Each output is searched as written and also percent-decoded, JSON-unescaped and
// HTML-unescaped. A response is searched as its status line, each header
// (named in a finding, so a redirect's Location and a Set-Cookie show as such) and its body.
//
// The only outputs allowed to carry a secret are the protocol's carriers listed in carriers(): each
// names a server, an answer, a part of it and the one parameter whose value it carries, and why. In
// that part of that answer, a secret found within a value of that parameter (decoded: a URL
// parameter, an HTML form field or a JSON member of that name) is carried, not found; any other
// secret there, or that value anywhere else, still is a finding.
//
// Findings never hold a secret: they name the secret by the first 12 hex digits of its SHA-256.
// Pure computation on files; not thread-safe across calls sharing a report.
#pragma once

#include <wik/result.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace wik::reliability {

// Secrets shorter than this are not looked for (the log redaction's threshold too), nor those made
// of fewer distinct bytes than kMinDistinctBytes (a test's filler such as 32 times 'b'): both would
// match ordinary text.
inline constexpr std::size_t kMinSecretSize = 8;
inline constexpr std::size_t kMinDistinctBytes = 4;

// The part of a response a carrier's value sits in.
enum class CarrierPlace { kBody, kLocation, kSetCookie };

// A response that carries a secret by design, and the one parameter whose value it may carry.
struct Carrier {
  std::string_view server;    // ServerOptions::name; a test's own ("unnamed") server matches any
  std::string_view exchange;  // the method and the route pattern, or the request's path without a
                              // leading Graph version segment: "POST /oauth/access_token"
  CarrierPlace place;
  std::string_view name;  // the parameter: a URL or form parameter, form field or JSON member
  std::string_view why;   // the protocol's reason, for the docs
};

// Returns the carriers the scan allows (docs/RELIABILITY.md, B5, lists them too).
const std::vector<Carrier>& carriers();

struct Finding {
  std::string file;         // the capture file, by its name in the directory
  std::string output;       // "log <logger>" or "response <server> <method> <route> <path> <part>"
  std::string secret_kind;  // "secret", "registered", "appsecret_proof", ...
  std::string form;         // how the secret appeared: "as is", "base64url", "hex", ... and the decoding
  std::string secret_hash;  // 12 hex digits of SHA-256(secret)
};

struct ScanReport {
  std::size_t processes = 0;  // processes that left a capture file
  std::size_t log_lines = 0;
  std::size_t responses = 0;
  std::size_t secrets = 0;          // distinct secrets looked for (kMinSecretSize and longer)
  std::size_t short_secrets = 0;    // distinct secrets too short or too uniform to look for
  std::size_t carried_values = 0;   // values removed from carriers before the search
  std::size_t bytes = 0;            // output bytes searched (before decoding)
  std::size_t truncated_files = 0;  // files whose last record was cut off (a killed process)
  std::vector<Finding> findings;
};

// Scans the capture directory `dir`. kNotFound when it does not exist, kMalformed for a file that
// is not a capture file.
Result<ScanReport> scan_capture(const std::filesystem::path& dir);

// Returns "B5 secrets: processes=…, log lines=…, responses=…, secrets=…, found=…".
std::string report_line(const ScanReport& report);

}  // namespace wik::reliability
