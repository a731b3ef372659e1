#include "deauth/deauthorization.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "http/server/message.h"

namespace wik::deauth {
namespace {

constexpr std::size_t kMaxCommunityIdLength = 32;

// Returns the media type of a Content-Type value, lower-cased, without parameters.
std::string media_type(std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  type.erase(std::remove_if(type.begin(), type.end(), [](char c) { return c == ' ' || c == '\t'; }), type.end());
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type;
}

// Returns the community id of a verified payload: a decimal string or a non-negative integer.
Result<std::string> community_id_of(const boost::json::object& payload) {
  const auto* value = payload.if_contains("community_id");
  std::string id;
  if (value != nullptr && value->is_string()) id = std::string(value->as_string());
  if (value != nullptr && value->is_int64() && value->as_int64() >= 0) id = std::to_string(value->as_int64());
  if (value != nullptr && value->is_uint64()) id = std::to_string(value->as_uint64());
  const bool decimal = !id.empty() && id.size() <= kMaxCommunityIdLength &&
                       std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!decimal) return Error(ErrorCode::kMalformed, "the signed_request has no valid community_id");
  return id;
}

std::string_view to_string(DeauthResult result) {
  switch (result) {
    case DeauthResult::kRevoked: return "revoked";
    case DeauthResult::kAlreadyRevoked: return "already_revoked";
    case DeauthResult::kStaleIgnored: return "stale_ignored";
  }
  return "unknown";
}

boost::asio::awaitable<Result<http::Response>> handle_callback(Deauthorizer* deauthorizer, http::Request& request) {
  auto signed_request = signed_request_from_body(request.header("Content-Type"), request.body());
  if (!signed_request.ok()) co_return signed_request.error();
  auto outcome = deauthorizer->handle(*signed_request);
  if (!outcome.ok()) co_return outcome.error();
  co_return http::Response::json(boost::json::object{{"result", to_string(outcome->result)}});
}

}  // namespace

Result<std::string> signed_request_from_body(std::optional<std::string_view> content_type, std::string_view body) {
  const std::string type = media_type(content_type.value_or(""));
  if (type == "application/x-www-form-urlencoded") {
    auto fields = http::parse_form(body);
    if (!fields.ok()) return fields.error();
    if (auto value = fields->find("signed_request"); value && !value->empty()) return std::string(*value);
    return Error(ErrorCode::kMalformed, "the body has no signed_request field");
  }
  if (type == "application/json") {
    boost::system::error_code ec;
    const auto parsed = boost::json::parse(body, ec);
    const auto* value = !ec && parsed.is_object() ? parsed.as_object().if_contains("signed_request") : nullptr;
    if (value != nullptr && value->is_string() && !value->as_string().empty()) return std::string(value->as_string());
    return Error(ErrorCode::kMalformed, "the body has no signed_request field");
  }
  return Error(ErrorCode::kUnsupported, "a deauthorization is a form or JSON POST");
}

Deauthorizer::Deauthorizer(store::Store& store, std::vector<Secret> app_secrets, const core::Clock& clock,
                           DeauthOptions options)
    : store_(store), app_secrets_(std::move(app_secrets)), clock_(clock), options_(std::move(options)) {
  if (app_secrets_.empty() || app_secrets_.front().empty()) fatal("Deauthorizer needs the app secret");
}

Result<core::SignedRequest> Deauthorizer::verify(std::string_view signed_request) const {
  const core::SignedRequestPolicy policy{.max_age = options_.max_age};
  const std::int64_t now = clock_.unix_seconds();
  const auto& until = options_.previous_secrets_until;
  const std::size_t accepted = until && clock_.now() >= *until ? 1 : app_secrets_.size();
  std::optional<Error> last;
  for (std::size_t i = 0; i < accepted; ++i) {
    auto verified = core::verify_signed_request(signed_request, app_secrets_[i], now, policy);
    if (verified.ok() || verified.error().code() != ErrorCode::kBadSignature) return verified;
    last = verified.error();
  }
  return *last;
}

Result<DeauthOutcome> Deauthorizer::handle(std::string_view signed_request) {
  auto verified = verify(signed_request);
  if (!verified.ok()) return verified.error();
  auto community_id = community_id_of(verified->payload);
  if (!community_id.ok()) return community_id.error();
  UninstallNotice notice{.source = "deauthorize callback"};
  if (verified->issued_at) {
    // issued_at has whole seconds: an installation made in a later second is newer than the request.
    notice.installed_before = std::chrono::system_clock::time_point(std::chrono::seconds(*verified->issued_at + 1));
  }
  return revoke(*community_id, notice);
}

Result<DeauthOutcome> Deauthorizer::revoke(std::string_view community_id, const UninstallNotice& notice) {
  auto scope = store_.community(community_id);
  if (!scope.ok()) return scope.error();

  DeauthOutcome outcome{.community_id = std::string(community_id)};
  auto uninstalled =
      scope->uninstall(notice.source, clock_.now() + options_.purge_deadline, notice.installed_before);
  if (!uninstalled.ok() && uninstalled.error().code() == ErrorCode::kConflict) {
    outcome.result = DeauthResult::kStaleIgnored;
    const std::string detail = notice.source + ": predates the current installation";
    if (auto audited = scope->record_audit("deauthorization_ignored", detail); !audited.ok()) return audited.error();
    spdlog::warn("deauth: ignored an uninstall ({}) older than the current installation of community {}",
                 notice.source, community_id);
    return outcome;
  }
  if (!uninstalled.ok()) return uninstalled.error();
  outcome.result = uninstalled->revoked ? DeauthResult::kRevoked : DeauthResult::kAlreadyRevoked;
  outcome.purge_job = uninstalled->purge.id;
  spdlog::info("deauth: community {} {} ({}), purge job {}", community_id, to_string(outcome.result), notice.source,
               uninstalled->purge.id);
  if (outcome.result == DeauthResult::kRevoked && revoked_) revoked_(outcome.community_id);
  return outcome;
}

void Deauthorizer::add_routes(http::Router& router) {
  router.add(boost::beast::http::verb::post, options_.path,
             [this](http::Request& request) { return handle_callback(this, request); },
             {.max_body_bytes = 16 * 1024});
}

Result<std::vector<store::PurgeJob>> PurgeRunner::run_pending() {
  std::vector<store::PurgeJob> finished;
  for (const auto state : {store::PurgeState::kRunning, store::PurgeState::kPending}) {
    auto jobs = store_.list_purge_jobs(state);
    if (!jobs.ok()) return jobs.error();
    for (const auto& job : *jobs) {
      auto done = store_.run_purge_job(job.id);
      if (!done.ok() && done.error().code() == ErrorCode::kConflict) continue;  // another replica runs it
      if (!done.ok()) return done.error();
      finished.push_back(std::move(*done));
    }
  }
  return finished;
}

}  // namespace wik::deauth
