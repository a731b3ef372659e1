// Output capture: the test seam behind the suite-wide secret scan (docs/RELIABILITY.md, B5).
//
// When wik is built with WIK_OUTPUT_CAPTURE (the default for Debug builds, the ones the tests run)
// and a process starts with WIK_CAPTURE_DIR naming a directory, that process appends to two files
// of its own in it, <pid>-<start ns>.outputs and <pid>-<start ns>.secrets:
//   outputs   every log line as it leaves the RedactingSink (after redaction) and every HTTP
//             response an http::Server writes (status line, headers, body), labelled;
//   secrets   every value that was held in a Secret or AccessToken, every value registered with
//             the log redaction, and every appsecret_proof and signature computed, labelled by kind.
// tests/reliability/secret_scan.h reads them back and looks for the second in the first.
// Each record is one write(2) of
//   @<type> <payload bytes> <label>\n<payload>\n
// where <type> is log, response or secret and the label holds no newline. A forked child reopens
// files of its own before it writes.
//
// Without the build option every function here does nothing and enabled() is false; with it and
// without the variable, enabled() costs one load of a flag set on first use. Capture never changes
// what the process does, and a failure to write is ignored (the scan then sees less, not more).
// Not part of core's "no I/O" rule: it exists for tests only. Thread-safe.
#pragma once

#include <string_view>

namespace wik::core::capture {

// Returns true when this process captures its outputs (built with the option, WIK_CAPTURE_DIR set).
bool enabled() noexcept;

// Records a log line `line` written by logger `logger`.
void log_line(std::string_view logger, std::string_view line) noexcept;

// Records the wire bytes `wire` of a response the server named `server` wrote for `exchange`:
// the method, the route pattern (or "unmatched") and the request's path without its query, as in
// "GET /{s1}/{s2} /oauth/access_token".
void response(std::string_view server, std::string_view exchange, std::string_view wire) noexcept;

// Records `value` as a secret of `kind` ("secret", "registered", "appsecret_proof", ...). Empty
// values are ignored, and a value already recorded by this process is not written again.
void secret(std::string_view kind, std::string_view value) noexcept;

}  // namespace wik::core::capture
