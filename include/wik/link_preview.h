// Link previews: what an integration answers when Workplace asks about a link to its content
// (App::on_link_preview; PROTOCOL.md §6.5). The platform reads the answer from the webhook's own
// response, so the handler runs while Workplace waits: the kit gives it a short deadline, answers
// from a cache where it can, and answers "no preview" rather than time out.
#pragma once

#include <wik/result.h>

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace wik {

class Context;

// Someone shared, or is viewing, a link to the app's content (link/preview), or Workplace lists
// the items under one (link/collection).
struct LinkRequest {
  std::string community_id;
  std::string user_id;      // the viewer, app-scoped; "" when the platform named none
  std::string link;         // the URL; "" for a collection's root
  bool collection = false;  // list the items under `link` rather than preview it
};

// One extra line of a preview ("Owner: …", "Priority: high").
struct LinkDetail {
  std::string title;
  std::string value;
  std::string format = "text";  // text | user (an app-scoped id) | datetime (ISO 8601)
  std::string color;            // "" | red | orange | yellow
};

// One previewed item. Only `link` and `title` are required.
struct LinkItem {
  std::string link;            // an http(s) URL
  std::string canonical_link;  // "" → the same as link
  std::string title;
  std::string description;
  std::string type = "doc";              // doc | folder | task
  std::string privacy = "organization";  // organization | accessible | personalized
  std::string icon;                      // an http(s) URL, or ""
  std::string download_url;              // an http(s) URL, or ""
  std::vector<LinkDetail> details;
};

struct LinkPreview {
  std::vector<LinkItem> items;  // empty: no preview for this viewer
  // false: the viewer has no linked account here (Workplace then offers to link one);
  // nullopt: not said.
  std::optional<bool> linked_user;
};

// Answers a link request as the viewer's community (App::on_link_preview).
using LinkPreviewHandler = std::function<boost::asio::awaitable<Result<LinkPreview>>(Context&, const LinkRequest&)>;

}  // namespace wik
