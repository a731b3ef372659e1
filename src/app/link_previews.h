// LinkPreviews: App::on_link_preview's handler, run by the webhook ingest for each link request
// (webhooks::LinkHandler) while the platform waits for the answer in the response.
//
// It decodes the request, answers from a cache of recent answers where it can (per community,
// viewer, kind and link, for `cache_for`; bounded, cleared when full), else runs the app's handler
// with a Context of the community and the viewer, checks the answer against the rules below and
// renders the JSON the platform reads. An answer that breaks them is an error (the ingest then
// answers "no preview") and is not cached. The ingest's link deadline bounds the handler.
// Thread-safe; borrows the services and the clock, which must outlive it.
#pragma once

#include <wik/context.h>
#include <wik/link_preview.h>
#include <wik/result.h>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "app/community_context.h"
#include "core/clock.h"
#include "webhooks/payload.h"

namespace wik::app {

// Returns the platform's JSON for `preview` ({"data":[…],"linked_user":…}), or kInvalidArgument
// naming what breaks the rules: at most 100 items; each link (and canonical link, icon, download
// URL when given) an absolute http(s) URL; a title of 1-1,000 characters and a description of at
// most 10,000, valid UTF-8; type doc, folder or task; privacy organization, accessible or
// personalized; each detail with a title and a value, format text, user or datetime, color none,
// red, orange or yellow.
Result<boost::json::value> render_link_preview(const LinkPreview& preview);

class LinkPreviews {
 public:
  LinkPreviews(ContextServices& services, LinkPreviewHandler handler, std::chrono::seconds cache_for,
               const core::Clock& clock, std::size_t capacity = 10000);

  // Answers one link event: the rendered answer, or the error that makes the ingest answer
  // "no preview".
  boost::asio::awaitable<Result<boost::json::value>> answer(const webhooks::WebhookEvent& event);

 private:
  struct Cached {
    boost::json::value answer;
    std::chrono::system_clock::time_point until;
  };

  ContextServices& services_;
  LinkPreviewHandler handler_;
  const std::chrono::seconds cache_for_;
  const core::Clock& clock_;
  const std::size_t capacity_;
  std::mutex mutex_;
  std::unordered_map<std::string, Cached> cache_;  // "community\nviewer\nkind\nlink" → answer
};

}  // namespace wik::app
