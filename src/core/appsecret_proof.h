// appsecret_proof and appsecret_time (PROTOCOL.md section 3): the per-call proof that a Graph
// request carrying a community token comes from the app that owns the secret.
//
//   appsecret_time  = Unix seconds as decimal text
//   appsecret_proof = lower-case hex HMAC-SHA256(app_secret, token + "|" + appsecret_time)
//
// make_appsecret_proof is what the kit attaches to every call; check_appsecret_proof is the check
// the platform makes (the emulator's use). Pure functions, thread-safe.
#pragma once

#include <wik/result.h>
#include <wik/secret.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace wik::core {

struct AppsecretProof {
  std::string proof;  // 64 lower-case hex characters
  std::string time;   // decimal Unix seconds
};

// Returns the proof for `token` at `unix_time`.
AppsecretProof make_appsecret_proof(const Secret& app_secret, const AccessToken& token, std::int64_t unix_time);

struct ProofWindow {
  std::chrono::seconds max_age{300};         // the platform's documented 5 minutes
  std::chrono::seconds max_future_skew{60};  // tolerated clock skew for times ahead of ours
};

// Checks a received proof: kInvalidArgument when either parameter is missing, kMalformed when
// appsecret_time is not a decimal integer, kBadSignature when the proof does not match (compared
// in constant time), kExpired when the time is older than the window or too far ahead.
Result<void> check_appsecret_proof(const Secret& app_secret, const AccessToken& token, std::string_view proof,
                                   std::string_view time, std::int64_t now_unix, const ProofWindow& window = {});

}  // namespace wik::core
