// Admin pages: the vendor's own pages behind its admin sign-in (App::admin_page).
//
// The kit serves the sign-in, checks that a signed-in account has the admin role, checks every
// form's CSRF token (forms must include AdminRequest::csrf_field) and wraps the handler's body in
// the admin layout with its navigation. A handler reaches a community only by naming it
// (AdminContext::community), and sees only installed communities. Pages are server-rendered HTML
// without scripts: escape every value that is not your own markup with wik::html_escape.
#pragma once

#include <wik/context.h>
#include <wik/result.h>

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wik {

struct AdminRequest {
  std::string path;  // the page's path, as registered
  bool post = false;  // a form was sent to the page (its CSRF token already checked)
  std::vector<std::pair<std::string, std::string>> fields;  // query parameters, then form fields
  std::string account_email;  // the signed-in admin account
  std::string csrf_field;     // the hidden input markup every form of the page must include

  // The first field named `name`.
  std::optional<std::string> field(std::string_view name) const;
};

struct AdminPage {
  std::string title;
  std::string body_html;  // trusted markup: escape every value that is not your own markup
  std::string redirect;   // when set, the answer is "303 See Other" to this path instead of a page

  static AdminPage see_other(std::string path) { return {.title = {}, .body_html = {}, .redirect = std::move(path)}; }
};

struct InstalledCommunity {
  std::string id;
  std::string name;
};

class AdminContext {
 public:
  virtual ~AdminContext() = default;
  // The communities the app is installed in now, by id.
  virtual boost::asio::awaitable<Result<std::vector<InstalledCommunity>>> communities() = 0;
  // A Context bound to community `id` (it has no event: reply() fails, send() and setting() work), or
  // kNotFound when the app is not installed there.
  virtual boost::asio::awaitable<Result<std::unique_ptr<Context>>> community(const std::string& id) = 0;
  // Sends `reply` to every member of community `id` and returns how many it reached. Only an
  // admin page can do this — a chat handler cannot —, as the platform's review guidelines require
  // of messages to everyone. Stops at the first failure (kNotFound when the app is not installed
  // there; Graph errors), naming how many were sent before it.
  virtual boost::asio::awaitable<Result<std::size_t>> message_everyone(const std::string& id, const Reply& reply) = 0;
};

using AdminHandler = std::function<boost::asio::awaitable<Result<AdminPage>>(AdminContext&, const AdminRequest&)>;

// Returns `text` with & < > " ' replaced by character references: safe inside element content and
// quoted attribute values.
std::string html_escape(std::string_view text);

}  // namespace wik
