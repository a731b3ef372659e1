#include "log/redacting_sink.h"

#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <string_view>
#include <vector>

#include "core/output_capture.h"
#include "core/redaction.h"

namespace wik::log {
namespace {

// The registered secret values, longest first, so that a value containing another is scrubbed whole.
class SecretValues {
 public:
  void add(const Secret& secret) {
    const std::unique_lock lock(mutex_);
    for (const Secret& value : values_) {
      if (value.expose() == secret.expose()) return;
    }
    const auto position = std::find_if(values_.begin(), values_.end(),
                                       [&](const Secret& value) { return value.size() < secret.size(); });
    values_.insert(position, secret);
  }

  // Replaces every registered value in `text` with [redacted].
  void scrub(std::string& text) const {
    const std::shared_lock lock(mutex_);
    for (const Secret& value : values_) {
      for (std::size_t at = text.find(value.expose()); at != std::string::npos;
           at = text.find(value.expose(), at + kRedacted.size())) {
        text.replace(at, value.size(), kRedacted);
      }
    }
  }

 private:
  mutable std::shared_mutex mutex_;
  std::vector<Secret> values_;
};

// Never destroyed, so that logging during static destruction still finds it.
SecretValues& registered_values() {
  static auto* const values = new SecretValues;
  return *values;
}

}  // namespace

void register_secret_value(const Secret& secret) {
  core::capture::secret("registered", secret.expose());
  if (secret.size() >= kMinRegisteredSecretSize) registered_values().add(secret);
}

void RedactingSink::log(const spdlog::details::log_msg& msg) {
  if (!target_->should_log(msg.level)) return;
  std::string payload(msg.payload.data(), msg.payload.size());
  registered_values().scrub(payload);
  payload = core::redact_secrets(payload);
  core::capture::log_line(std::string_view(msg.logger_name.data(), msg.logger_name.size()), payload);
  spdlog::details::log_msg cleaned = msg;
  cleaned.payload = spdlog::string_view_t(payload.data(), payload.size());
  target_->log(cleaned);
}

void RedactingSink::flush() { target_->flush(); }

void RedactingSink::set_pattern(const std::string& pattern) { target_->set_pattern(pattern); }

void RedactingSink::set_formatter(std::unique_ptr<spdlog::formatter> formatter) {
  target_->set_formatter(std::move(formatter));
}

}  // namespace wik::log
