// RedactingSink: the guard every wik log line passes through before it is written anywhere.
//
// It wraps another spdlog sink and hands it each record with the message cleaned twice: first every
// exact value registered with register_secret_value (the app secret, a database URL, the key ring)
// becomes "[redacted]", then core::redact_secrets replaces the values of sensitive parameters
// (access_token=..., "client_secret":"...", Bearer ...). Logger names are not cleaned: they are fixed
// strings chosen by the code. This is the second line of defence; the first is that Secret and
// AccessToken never format as their values.
// Thread-safe when the wrapped sink is (use an _mt sink); the registry is process-wide and may be
// updated from any thread while others log.
#pragma once

#include <wik/secret.h>

#include <spdlog/sinks/sink.h>

#include <cstddef>
#include <memory>
#include <string>

namespace wik::log {

// Values shorter than this are not registered: scrubbing them would garble ordinary text.
inline constexpr std::size_t kMinRegisteredSecretSize = 8;

// Adds the value of `secret` to the process-wide set every RedactingSink scrubs from log lines.
// Values shorter than kMinRegisteredSecretSize bytes are ignored; registering a value twice is
// harmless. Values stay registered for the life of the process.
void register_secret_value(const Secret& secret);

class RedactingSink final : public spdlog::sinks::sink {
 public:
  explicit RedactingSink(spdlog::sink_ptr target) : target_(std::move(target)) {}

  // spdlog::sinks::sink. The format calls are forwarded to the wrapped sink, which does the writing.
  void log(const spdlog::details::log_msg& msg) override;
  void flush() override;
  void set_pattern(const std::string& pattern) override;
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override;

 private:
  spdlog::sink_ptr target_;
};

}  // namespace wik::log
