#include "app/link_previews.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <utility>

#include "app/events.h"
#include "bot/limit_checks.h"

namespace wik::app {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxItems = 100;
constexpr std::size_t kMaxTitle = 1000;
constexpr std::size_t kMaxDescription = 10000;
constexpr std::size_t kMaxDetails = 20;

Result<void> check_one_of(const std::string& what, const std::string& value, std::initializer_list<std::string_view> allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return ok_result();
  std::string names;
  for (std::string_view name : allowed) names += (names.empty() ? "" : ", ") + std::string(name.empty() ? "\"\"" : name);
  return Error(ErrorCode::kInvalidArgument, what + " must be one of " + names);
}

Result<void> check_optional_url(const std::string& what, const std::string& url) {
  return url.empty() ? ok_result() : bot::check_web_url(what, url);
}

Result<json::object> render_detail(const std::string& owner, const LinkDetail& detail) {
  if (auto checked = bot::check_length(owner + "'s title", detail.title, kMaxTitle); !checked) return checked.error();
  if (auto checked = bot::check_length(owner + "'s value", detail.value, kMaxTitle); !checked) return checked.error();
  if (auto checked = check_one_of(owner + "'s format", detail.format, {"text", "user", "datetime"}); !checked) {
    return checked.error();
  }
  if (auto checked = check_one_of(owner + "'s color", detail.color, {"", "red", "orange", "yellow"}); !checked) {
    return checked.error();
  }
  json::object out{{"title", detail.title}, {"format", detail.format}, {"value", detail.value}};
  if (!detail.color.empty()) out["color"] = detail.color;
  return out;
}

Result<json::object> render_item(std::size_t index, const LinkItem& item) {
  const std::string name = "link preview item " + std::to_string(index + 1);
  for (const auto& [what, url] : std::array<std::pair<std::string, const std::string*>, 3>{
           {{name + "'s canonical link", &item.canonical_link},
            {name + "'s icon", &item.icon},
            {name + "'s download URL", &item.download_url}}}) {
    if (auto checked = check_optional_url(what, *url); !checked) return checked.error();
  }
  if (auto checked = bot::check_web_url(name + "'s link", item.link); !checked) return checked.error();
  if (auto checked = bot::check_length(name + "'s title", item.title, kMaxTitle); !checked) return checked.error();
  if (!item.description.empty()) {
    if (auto checked = bot::check_length(name + "'s description", item.description, kMaxDescription); !checked) {
      return checked.error();
    }
  }
  if (auto checked = check_one_of(name + "'s type", item.type, {"doc", "folder", "task"}); !checked) return checked.error();
  if (auto checked = check_one_of(name + "'s privacy", item.privacy, {"organization", "accessible", "personalized"});
      !checked) {
    return checked.error();
  }
  if (auto checked = bot::check_count(name, "details", item.details.size(), kMaxDetails); !checked) return checked.error();
  json::array details;
  for (std::size_t i = 0; i < item.details.size(); ++i) {
    auto detail = render_detail(name + "'s detail " + std::to_string(i + 1), item.details[i]);
    if (!detail) return detail.error();
    details.push_back(std::move(*detail));
  }
  json::object out{{"link", item.link},
                   {"canonical_link", item.canonical_link.empty() ? item.link : item.canonical_link},
                   {"title", item.title},
                   {"type", item.type},
                   {"privacy", item.privacy}};
  if (!item.description.empty()) out["description"] = item.description;
  if (!item.icon.empty()) out["icon"] = item.icon;
  if (!item.download_url.empty()) out["download_url"] = item.download_url;
  if (!details.empty()) out["additional_data"] = std::move(details);
  return out;
}

std::string cache_key(const LinkRequest& request) {
  return request.community_id + "\n" + request.user_id + "\n" + (request.collection ? "collection" : "preview") + "\n" +
         request.link;
}

}  // namespace

Result<json::value> render_link_preview(const LinkPreview& preview) {
  if (auto checked = bot::check_count("a link preview", "items", preview.items.size(), kMaxItems); !checked) {
    return checked.error();
  }
  json::array data;
  for (std::size_t i = 0; i < preview.items.size(); ++i) {
    auto item = render_item(i, preview.items[i]);
    if (!item) return item.error();
    data.push_back(std::move(*item));
  }
  json::object out{{"data", std::move(data)}};
  if (preview.linked_user) out["linked_user"] = *preview.linked_user;
  return json::value(std::move(out));
}

LinkPreviews::LinkPreviews(ContextServices& services, LinkPreviewHandler handler, std::chrono::seconds cache_for,
                           const core::Clock& clock, std::size_t capacity)
    : services_(services), handler_(std::move(handler)), cache_for_(cache_for), clock_(clock), capacity_(capacity) {}

boost::asio::awaitable<Result<json::value>> LinkPreviews::answer(const webhooks::WebhookEvent& event) {
  Result<LinkRequest> request = decode_link_request(event.community_id, event.field, event.payload);
  if (!request) co_return request.error();
  const std::string key = cache_key(*request);
  {
    const std::lock_guard lock(mutex_);
    const auto found = cache_.find(key);
    if (found != cache_.end() && found->second.until > clock_.now()) co_return found->second.answer;
  }
  CommunityContext context(services_, request->community_id, request->user_id);
  Result<LinkPreview> preview = co_await handler_(context, *request);
  if (!preview) {
    spdlog::warn("link previews: the handler failed for community {}: {}", request->community_id,
                 preview.error().reason());
    co_return preview.error();
  }
  Result<json::value> rendered = render_link_preview(*preview);
  if (!rendered) {
    spdlog::warn("link previews: an answer for community {} breaks the rules: {}", request->community_id,
                 rendered.error().reason());
    co_return rendered.error();
  }
  if (cache_for_.count() > 0) {
    const std::lock_guard lock(mutex_);
    if (cache_.size() >= capacity_) cache_.clear();
    cache_.insert_or_assign(key, Cached{.answer = *rendered, .until = clock_.now() + cache_for_});
  }
  co_return std::move(*rendered);
}

}  // namespace wik::app
