#include "emulator/pages/pages.h"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <utility>
#include <variant>

#include "emulator/pages/chat_view.h"
#include "emulator/pages/html.h"
#include "emulator/pages/install_dialog.h"
#include "emulator/pages/sessions.h"
#include "http/error_status.h"

namespace wik::emulator {
namespace {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;
using http::Request;
using http::Response;

// The Integrations tab, spelled as PROTOCOL.md §1.2 gives it (the router also matches the slash).
constexpr std::string_view kAdminAppsPath = "/work/admin/?section=apps";
constexpr std::string_view kWorkplaceInstallPath = "/work/admin/install";
constexpr std::string_view kDialogPath = "/dialog/work/app_install";
constexpr std::size_t kMaxFormBytes = 64 * 1024;
constexpr std::size_t kMaxMessagesShown = 200;
constexpr std::size_t kMaxPostsShown = 100;
// How often an open conversation asks for new messages.
constexpr int kChatPollMilliseconds = 1000;

// A signed-in person, as the pages see them.
struct Visitor {
  Session session;
  User user;
  std::string community_name;

  html::Viewer viewer() const {
    return {.name = user.name, .community_name = community_name, .system_admin = user.system_admin,
            .csrf_token = session.csrf_token};
  }
};

// A POST from a signed-in person whose CSRF token matched.
struct Submission {
  Visitor visitor;
  http::Params form;

  std::string field(std::string_view name) const { return std::string(form.find(name).value_or("")); }
};

Response redirect(std::string_view location, beast_http::status status = beast_http::status::see_other) {
  Response response(status);
  response.set_header(beast_http::field::location, location);
  response.set_header(beast_http::field::cache_control, "no-store");
  response.set_header("Referrer-Policy", "no-referrer");
  return response;
}

std::string format_time(std::int64_t unix_seconds) {
  const std::time_t time = static_cast<std::time_t>(unix_seconds);
  std::tm parts{};
  gmtime_r(&time, &parts);
  char text[32];
  const std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &parts);
  return std::string(text, length);
}

std::optional<std::size_t> parse_index(std::string_view text) {
  std::size_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

bool is_graph_version(std::string_view segment) {
  // vN.N, as in /v3.2/dialog/work/app_install.
  if (segment.size() < 4 || segment.front() != 'v') return false;
  const std::size_t dot = segment.find('.');
  if (dot == std::string_view::npos || dot == 1 || dot + 1 == segment.size()) return false;
  const auto digits = [](std::string_view part) {
    return std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  return digits(segment.substr(1, dot - 1)) && digits(segment.substr(dot + 1));
}

std::string app_icon(const App& app) {
  if (app.icon_png.empty()) {
    const std::string initial = app.name.empty() ? "?" : app.name.substr(0, 1);
    return "<span class=\"icon placeholder\" aria-hidden=\"true\">" + html::escape(initial) + "</span>";
  }
  return "<img class=\"icon\" alt=\"\" src=\"/apps/" + html::escape(html::path_segment(app.id)) + "/icon.png\">";
}

// Returns the app's publisher and tagline, each when registered.
std::string app_summary(const App& app) {
  std::string out;
  if (!app.publisher.empty()) out += "<div class=\"muted\">by " + html::escape(app.publisher) + "</div>";
  if (!app.tagline.empty()) out += "<div>" + html::escape(app.tagline) + "</div>";
  return out;
}

}  // namespace

class Pages::Impl {
 public:
  using Handler = Response (Impl::*)(Request&);

  Impl(PlatformState& state, PlatformActions& actions, PagesOptions options)
      : state_(state), actions_(actions), options_(std::move(options)), sessions_(state.clock()) {}

  // Runs a page handler as the router's coroutine (the handlers themselves never wait).
  static asio::awaitable<Response> serve(Impl& impl, Handler handler, Request& request) {
    co_return (impl.*handler)(request);
  }

  // --- sign-in -------------------------------------------------------------------------------------
  Response home(Request& request) {
    if (auto visitor = find_visitor(request)) return home_page(*visitor);
    std::optional<Session> session = sessions_.find(request);
    const bool new_session = !session;
    if (new_session) session = sessions_.start(std::nullopt);
    Response response = sign_in_page(*session, std::string(request.query("next").value_or("")));
    if (new_session) response.set_header(beast_http::field::set_cookie, Sessions::cookie(*session));
    return response;
  }

  Response login(Request& request) {
    const std::optional<Session> session = sessions_.find(request);
    auto form = request.form();
    if (!session || !form || !Sessions::csrf_matches(*session, form->find("csrf").value_or(""))) {
      return forbidden_form(std::nullopt);
    }
    const std::optional<User> user = state_.user(std::string(form->find("user_id").value_or("")));
    if (!user || !user->active) {
      return error_page(std::nullopt, Error(ErrorCode::kNotFound, "That person does not exist or is deactivated."));
    }
    sessions_.end(session->id);
    const Session signed_in = sessions_.start(user->id);
    const std::string next(form->find("next").value_or(""));
    Response response = redirect(html::is_local_path(next) ? next : "/");
    response.set_header(beast_http::field::set_cookie, Sessions::cookie(signed_in));
    return response;
  }

  Response logout(Request& request) {
    const std::optional<Session> session = sessions_.find(request);
    auto form = request.form();
    if (!session || !form || !Sessions::csrf_matches(*session, form->find("csrf").value_or(""))) {
      return forbidden_form(find_visitor(request));
    }
    sessions_.end(session->id);
    Response response = redirect("/");
    response.set_header(beast_http::field::set_cookie, Sessions::expired_cookie());
    return response;
  }

  // --- Integrations tab ------------------------------------------------------------------------------
  Response icon(Request& request) {
    const std::optional<App> app = state_.app(std::string(request.param("app_id")));
    if (!app || app->icon_png.empty()) {
      return error_page(find_visitor(request), Error(ErrorCode::kNotFound, "This app has no icon."));
    }
    Response response;
    response.set_header(beast_http::field::content_type, "image/png");
    response.set_header("X-Content-Type-Options", "nosniff");
    response.set_header(beast_http::field::cache_control, "no-cache");
    response.set_body(app->icon_png);
    return response;
  }

  Response admin(Request& request) {
    auto admin = require_admin(request);
    if (auto* refusal = std::get_if<Response>(&admin)) return std::move(*refusal);
    const Visitor& visitor = std::get<Visitor>(admin);
    if (request.query("app_id")) return developer_dialog(visitor, request.query_params());
    return integrations_page(visitor);
  }

  Response uninstall(Request& request) {
    auto submission = accept_admin_form(request);
    if (auto* refusal = std::get_if<Response>(&submission)) return std::move(*refusal);
    const Submission& accepted = std::get<Submission>(submission);
    auto removed = actions_.uninstall(accepted.field("app_id"), accepted.visitor.user.community_id,
                                      accepted.visitor.user.id);
    if (!removed) return error_page(accepted.visitor, removed.error());
    return redirect(kAdminAppsPath);
  }

  // --- install dialogs -----------------------------------------------------------------------------
  Response workplace_dialog(Request& request) {
    auto admin = require_admin(request);
    if (auto* refusal = std::get_if<Response>(&admin)) return std::move(*refusal);
    const Visitor& visitor = std::get<Visitor>(admin);
    auto install = workplace_install_request(state_, std::string(request.query("app_id").value_or("")));
    if (!install) return error_page(visitor, install.error());
    return dialog_page(visitor, *install);
  }

  Response workplace_answer(Request& request) {
    auto submission = accept_admin_form(request);
    if (auto* refusal = std::get_if<Response>(&submission)) return std::move(*refusal);
    const Submission& accepted = std::get<Submission>(submission);
    auto install = workplace_install_request(state_, accepted.field("app_id"));
    if (!install) return error_page(accepted.visitor, install.error());
    if (accepted.field("decision") != "install") return redirect(kAdminAppsPath);
    return answer_install(accepted.visitor, *install);
  }

  Response dialog(Request& request) {
    auto admin = require_admin(request);
    if (auto* refusal = std::get_if<Response>(&admin)) return std::move(*refusal);
    return developer_dialog(std::get<Visitor>(admin), request.query_params());
  }

  Response versioned_dialog(Request& request) {
    if (!is_graph_version(request.param("version"))) {
      return error_page(find_visitor(request), Error(ErrorCode::kNotFound, "There is no page here."));
    }
    return dialog(request);
  }

  Response dialog_answer(Request& request) {
    auto submission = accept_admin_form(request);
    if (auto* refusal = std::get_if<Response>(&submission)) return std::move(*refusal);
    const Submission& accepted = std::get<Submission>(submission);
    auto install = parse_install_request(state_, accepted.form);
    if (!install) return error_page(accepted.visitor, install.error());
    if (accepted.field("decision") != "install") return redirect(cancel_redirect(*install), beast_http::status::found);
    return answer_install(accepted.visitor, *install);
  }

  // --- Work Chat -----------------------------------------------------------------------------------
  Response chats(Request& request) {
    auto signed_in = require_visitor(request);
    if (auto* refusal = std::get_if<Response>(&signed_in)) return std::move(*refusal);
    const Visitor& visitor = std::get<Visitor>(signed_in);

    std::string body = "<h1>Work Chat</h1><section class=\"card\"><h2>Bots</h2>";
    const std::vector<Install> installs = state_.installs(visitor.user.community_id);
    if (installs.empty()) body += "<p class=\"muted\">No app is installed in this community yet.</p>";
    body += "<ul class=\"plain\">";
    for (const Install& install : installs) {
      const std::optional<App> app = state_.app(install.app_id);
      body += "<li class=\"app\">" + (app ? app_icon(*app) : std::string()) + "<strong>" +
              html::escape(bot_name(install.page_id)) + "</strong><form method=\"post\" action=\"/chat/open\">" +
              html::csrf_field(visitor.session.csrf_token) + "<input type=\"hidden\" name=\"page_id\" value=\"" +
              html::escape(install.page_id) + "\"><button type=\"submit\">Message " +
              html::escape(bot_name(install.page_id)) + "</button></form></li>";
    }
    body += "</ul></section><section class=\"card\"><h2>Conversations</h2><ul>";
    const std::vector<Thread> threads = state_.threads_of_user(visitor.user.id);
    if (threads.empty()) body += "<li class=\"muted\">No conversations yet.</li>";
    for (const Thread& thread : threads) {
      body += "<li><a href=\"/chat/" + html::escape(html::path_segment(thread.id)) + "\">" +
              html::escape(thread_title(thread, visitor)) + "</a></li>";
    }
    body += "</ul></section>";
    return html::render({.title = "Work Chat", .viewer = visitor.viewer(), .body = std::move(body)});
  }

  Response open_chat(Request& request) {
    auto submission = accept_form(request);
    if (auto* refusal = std::get_if<Response>(&submission)) return std::move(*refusal);
    const Submission& accepted = std::get<Submission>(submission);
    const std::string page_id = accepted.field("page_id");
    const std::optional<Install> install = state_.install_by_page(page_id);
    if (!install || install->community_id != accepted.visitor.user.community_id) {
      return error_page(accepted.visitor, Error(ErrorCode::kNotFound, "This bot is not installed in your community."));
    }
    auto thread = actions_.open_chat(accepted.visitor.user.id, page_id);
    if (!thread) return error_page(accepted.visitor, thread.error());
    return redirect(thread_path(thread->id));
  }

  Response conversation(Request& request) {
    auto signed_in = require_visitor(request);
    if (auto* refusal = std::get_if<Response>(&signed_in)) return std::move(*refusal);
    const Visitor& visitor = std::get<Visitor>(signed_in);
    const std::optional<Thread> thread = visible_thread(visitor, request.param("thread_id"));
    if (!thread) return error_page(visitor, Error(ErrorCode::kNotFound, "This conversation does not exist."));

    const std::string path = thread_path(thread->id);
    std::string body = "<p><a href=\"/chat\">← All conversations</a></p><section class=\"card\"><h1>" +
                       html::escape(thread_title(*thread, visitor)) + "</h1>";
    if (thread->page_id) body += get_started_button(visitor, *thread, path);
    const ConversationView view = conversation_view(visitor, *thread);
    body += "<div id=\"messages\" class=\"messages\" role=\"log\" aria-label=\"Messages\" aria-live=\"polite\" "
            "data-version=\"" + view.version + "\">" +
            view.html + "</div><form method=\"post\" action=\"" + html::escape(path) + "/send\">" +
            html::csrf_field(visitor.session.csrf_token) +
            "<p><label for=\"text\">Message</label><textarea id=\"text\" name=\"text\" rows=\"2\" maxlength=\"2000\" "
            "required autofocus></textarea></p><button type=\"submit\" class=\"primary\">Send</button></form></section>";
    // Replaces the message list when the fragment route reports a new version (a bot's reply).
    std::string script = "(function(){const box=document.getElementById('messages');"
                         "async function poll(){try{const r=await fetch(location.pathname+'/messages',"
                         "{credentials:'same-origin',cache:'no-store'});const v=r.headers.get('X-Chat-Version');"
                         "if(r.ok&&v&&v!==box.dataset.version){box.innerHTML=await r.text();box.dataset.version=v;"
                         "if(box.lastElementChild)box.lastElementChild.scrollIntoView();}}catch(e){}"
                         "setTimeout(poll," + std::to_string(kChatPollMilliseconds) + ");}"
                         "setTimeout(poll," + std::to_string(kChatPollMilliseconds) + ");})();";
    return html::render(
        {.title = thread_title(*thread, visitor), .viewer = visitor.viewer(), .body = std::move(body), .script = std::move(script)});
  }

  Response conversation_fragment(Request& request) {
    auto signed_in = require_visitor(request);
    if (auto* refusal = std::get_if<Response>(&signed_in)) return std::move(*refusal);
    const Visitor& visitor = std::get<Visitor>(signed_in);
    const std::optional<Thread> thread = visible_thread(visitor, request.param("thread_id"));
    if (!thread) return error_page(visitor, Error(ErrorCode::kNotFound, "This conversation does not exist."));
    Response response;
    response.set_header(beast_http::field::content_type, "text/html; charset=utf-8");
    response.set_header(beast_http::field::cache_control, "no-store");
    response.set_header("X-Content-Type-Options", "nosniff");
    ConversationView view = conversation_view(visitor, *thread);
    response.set_header("X-Chat-Version", view.version);
    response.set_body(std::move(view.html));
    return response;
  }

  Response send(Request& request) {
    return thread_action(request, [this](const Submission& accepted, const Thread& thread) -> Result<void> {
      auto sent = actions_.send_message(accepted.visitor.user.id, thread.id, accepted.field("text"));
      if (!sent) return sent.error();
      return ok_result();
    });
  }

  Response quick_reply(Request& request) {
    return thread_action(request, [this](const Submission& accepted, const Thread& thread) -> Result<void> {
      const std::optional<std::size_t> index = parse_index(accepted.field("index"));
      if (!index) return Error(ErrorCode::kInvalidArgument, "That quick reply does not exist.");
      auto pressed = actions_.press_quick_reply(accepted.visitor.user.id, thread.id, accepted.field("mid"), *index);
      if (!pressed) return pressed.error();
      return ok_result();
    });
  }

  Response postback(Request& request) {
    return thread_action(request, [this](const Submission& accepted, const Thread& thread) -> Result<void> {
      const std::optional<std::size_t> index = parse_index(accepted.field("index"));
      if (!index) return Error(ErrorCode::kInvalidArgument, "That button does not exist.");
      return actions_.press_postback(accepted.visitor.user.id, thread.id, accepted.field("mid"), *index);
    });
  }

  Response get_started(Request& request) {
    return thread_action(request, [this](const Submission& accepted, const Thread& thread) -> Result<void> {
      if (!thread.page_id) return Error(ErrorCode::kNotFound, "This conversation has no bot.");
      return actions_.press_get_started(accepted.visitor.user.id, *thread.page_id);
    });
  }

  // --- groups --------------------------------------------------------------------------------------
  Response groups(Request& request) {
    auto signed_in = require_visitor(request);
    if (auto* refusal = std::get_if<Response>(&signed_in)) return std::move(*refusal);
    const Visitor& visitor = std::get<Visitor>(signed_in);
    std::string body = "<h1>Groups</h1><section class=\"card\"><ul>";
    bool any = false;
    for (const Group& group : state_.groups(visitor.user.community_id)) {
      if (!is_member(group, visitor)) continue;
      any = true;
      body += "<li><a href=\"/groups/" + html::escape(html::path_segment(group.id)) + "\">" + html::escape(group.name) +
              "</a> <span class=\"muted\">" + html::escape(group.privacy) + " · " +
              std::to_string(group.members.size()) + " members</span></li>";
    }
    if (!any) body += "<li class=\"muted\">You are not a member of any group.</li>";
    body += "</ul></section>";
    return html::render({.title = "Groups", .viewer = visitor.viewer(), .body = std::move(body)});
  }

  Response group_feed(Request& request) {
    auto signed_in = require_visitor(request);
    if (auto* refusal = std::get_if<Response>(&signed_in)) return std::move(*refusal);
    const Visitor& visitor = std::get<Visitor>(signed_in);
    const std::optional<Group> group = visible_group(visitor, request.param("group_id"));
    if (!group) return error_page(visitor, Error(ErrorCode::kNotFound, "This group does not exist."));

    const std::string path = "/groups/" + html::path_segment(group->id);
    const std::string mentions = mention_choice(visitor);
    std::string body = "<p><a href=\"/groups\">← All groups</a></p><h1>" + html::escape(group->name) +
                       "</h1><section class=\"card\"><form method=\"post\" action=\"" + html::escape(path) + "/post\">" +
                       html::csrf_field(visitor.session.csrf_token) +
                       "<p><label for=\"post-text\">Write something</label><textarea id=\"post-text\" name=\"message\" "
                       "rows=\"3\" required></textarea></p>" + mentions +
                       "<button type=\"submit\" class=\"primary\">Post</button></form></section>";
    std::vector<Post> posts = state_.feed(group->id);
    if (posts.size() > kMaxPostsShown) posts.resize(kMaxPostsShown);
    for (const Post& post : posts) {
      body += "<article class=\"card\"><div class=\"muted\"><strong>" + html::escape(author(post.from, post.from_bot)) +
              "</strong> · " + format_time(post.created_at) + "</div><p>" + text_with_mentions(post.message) + "</p>";
      for (const Comment& comment : state_.comments(post.id)) {
        body += comment_html(comment);
        for (const Comment& reply : state_.comments(comment.id)) body += "<div class=\"comment\">" + comment_html(reply) + "</div>";
      }
      body += "<form method=\"post\" action=\"" + html::escape(path) + "/comment\">" +
              html::csrf_field(visitor.session.csrf_token) + "<input type=\"hidden\" name=\"object_id\" value=\"" +
              html::escape(post.id) + "\"><input type=\"text\" name=\"message\" aria-label=\"Write a comment\" "
              "placeholder=\"Write a comment\" required>" + mentions +
              "<button type=\"submit\">Comment</button></form></article>";
    }
    if (posts.empty()) body += "<p class=\"muted\">No posts yet.</p>";
    return html::render({.title = group->name, .viewer = visitor.viewer(), .body = std::move(body)});
  }

  Response post(Request& request) {
    return group_action(request, [this](const Submission& accepted, const Group& group, std::string message) -> Result<void> {
      auto posted = actions_.post(accepted.visitor.user.id, group.id, std::move(message));
      if (!posted) return posted.error();
      return ok_result();
    });
  }

  Response comment(Request& request) {
    return group_action(request, [this](const Submission& accepted, const Group& group, std::string message) -> Result<void> {
      const std::string object_id = accepted.field("object_id");
      const std::optional<Post> post = state_.post(object_id);
      const std::optional<Comment> parent = post ? std::nullopt : state_.comment(object_id);
      const std::optional<Post> parent_post = parent ? state_.post(parent->post_id) : std::nullopt;
      const bool in_group = (post && post->group_id == group.id) || (parent_post && parent_post->group_id == group.id);
      if (!in_group) return Error(ErrorCode::kNotFound, "That post does not exist in this group.");
      auto commented = actions_.comment(accepted.visitor.user.id, object_id, std::move(message));
      if (!commented) return commented.error();
      return ok_result();
    });
  }

 private:
  // --- who is asking -------------------------------------------------------------------------------
  std::optional<Visitor> find_visitor(const Request& request) {
    std::optional<Session> session = sessions_.find(request);
    if (!session || !session->user_id) return std::nullopt;
    std::optional<User> user = state_.user(*session->user_id);
    if (!user || !user->active) return std::nullopt;
    const std::optional<Community> community = state_.community(user->community_id);
    return Visitor{.session = std::move(*session), .user = std::move(*user),
                   .community_name = community ? community->name : std::string()};
  }

  // Returns the signed-in visitor, or the way to the sign-in page (which comes back here).
  std::variant<Visitor, Response> require_visitor(const Request& request) {
    if (auto visitor = find_visitor(request)) return std::move(*visitor);
    return redirect(html::with_query("/", {{"next", std::string(request.raw_target())}}));
  }

  std::variant<Visitor, Response> require_admin(const Request& request) {
    auto signed_in = require_visitor(request);
    if (const Visitor* visitor = std::get_if<Visitor>(&signed_in); visitor && !visitor->user.system_admin) {
      return error_page(*visitor, Error(ErrorCode::kPermissionDenied,
                                        "Only system administrators can manage and install integrations."));
    }
    return signed_in;
  }

  // Returns the form of a signed-in visitor's POST when its CSRF token matches their session.
  std::variant<Submission, Response> accept_form(const Request& request) {
    std::optional<Visitor> visitor = find_visitor(request);
    if (!visitor) return redirect("/");
    auto form = request.form();
    if (!form || !Sessions::csrf_matches(visitor->session, form->find("csrf").value_or(""))) {
      return forbidden_form(visitor);
    }
    return Submission{.visitor = std::move(*visitor), .form = std::move(*form)};
  }

  std::variant<Submission, Response> accept_admin_form(const Request& request) {
    auto submission = accept_form(request);
    if (const Submission* accepted = std::get_if<Submission>(&submission); accepted && !accepted->visitor.user.system_admin) {
      return error_page(accepted->visitor, Error(ErrorCode::kPermissionDenied,
                                                 "Only system administrators can manage and install integrations."));
    }
    return submission;
  }

  // --- shared answers ------------------------------------------------------------------------------
  Response error_page(const std::optional<Visitor>& visitor, const Error& error) {
    const http::ErrorStatus status = http::error_status(error.code());
    std::string body = "<section class=\"card error\"><h1>" + html::escape(status.public_reason) + "</h1><p>" +
                       html::escape(error.reason()) + "</p><p><a href=\"/\">Back to the start page</a></p></section>";
    return html::render({.title = std::string(status.public_reason), .viewer = visitor ? std::optional(visitor->viewer()) : std::nullopt,
                         .body = std::move(body), .status = status.status});
  }

  Response forbidden_form(const std::optional<Visitor>& visitor) {
    return error_page(visitor, Error(ErrorCode::kPermissionDenied,
                                     "This form was not sent by this page or has expired (its CSRF token did not match). "
                                     "Go back, reload the page and try again."));
  }

  Response home_page(const Visitor& visitor) {
    std::string body = "<section class=\"card\"><h1>Welcome, " + html::escape(visitor.user.name) +
                       "</h1><ul><li><a href=\"/chat\">Work Chat</a>: talk to the bots installed in " +
                       html::escape(visitor.community_name) + "</li><li><a href=\"/groups\">Groups</a>: posts, comments "
                       "and bot mentions</li>";
    if (visitor.user.system_admin) {
      body += "<li><a href=\"" + html::escape(kAdminAppsPath) + "\">Integrations</a>: install and uninstall apps</li>";
    }
    body += "</ul></section>";
    return html::render({.title = "Home", .viewer = visitor.viewer(), .body = std::move(body)});
  }

  Response sign_in_page(const Session& session, const std::string& next) {
    std::string body =
        "<h1>Sign in</h1><p class=\"notice\"><strong>This is the wik Workplace emulator, not Workplace.</strong> "
        "There are no passwords: choose the person you want to act as. Anyone who can reach this page can do the "
        "same, so run it on loopback only.</p>";
    for (const Community& community : state_.communities()) {
      body += "<section class=\"card\"><h2>" + html::escape(community.name) + "</h2><form method=\"post\" action=\"/login\">" +
              html::csrf_field(session.csrf_token);
      if (html::is_local_path(next)) body += "<input type=\"hidden\" name=\"next\" value=\"" + html::escape(next) + "\">";
      body += "<ul class=\"plain\">";
      for (const User& user : state_.users(community.id)) {
        if (!user.active) continue;
        body += "<li><button type=\"submit\" name=\"user_id\" value=\"" + html::escape(user.id) + "\">Sign in as " +
                html::escape(user.name) + "</button> <span class=\"muted\">" + html::escape(user.title) + " · " +
                html::escape(user.email) + " · " + html::escape(user.locale) + "</span>";
        if (user.system_admin) body += " <span class=\"badge\">System administrator</span>";
        body += "</li>";
      }
      body += "</ul></form></section>";
    }
    return html::render({.title = "Sign in", .body = std::move(body)});
  }

  Response integrations_page(const Visitor& visitor) {
    std::string body = "<h1>Integrations</h1><p class=\"muted\">Apps registered with this emulator. Install opens the "
                       "Workplace-initiated consent; the app then receives a code at its Redirect URL.</p>";
    const std::vector<App> apps = state_.apps();
    if (apps.empty()) body += "<p class=\"card\">No app is registered. Start the emulator with --app app.toml.</p>";
    for (const App& app : apps) {
      const std::optional<Install> install = state_.install_of(app.id, visitor.user.community_id);
      body += "<section class=\"card app\" data-app-id=\"" + html::escape(app.id) + "\">" + app_icon(app) +
              "<div><h2>" + html::escape(app.name) + "</h2>" + app_summary(app);
      if (install) {
        body += "<div><span class=\"badge\">Installed</span> <span class=\"muted\">since " + format_time(install->installed_at) +
                "</span></div><div class=\"buttons\"><a class=\"button\" href=\"" +
                html::escape(html::with_query(kWorkplaceInstallPath, {{"app_id", app.id}})) +
                "\">Reinstall</a><form method=\"post\" action=\"/work/admin/uninstall\">" +
                html::csrf_field(visitor.session.csrf_token) + "<input type=\"hidden\" name=\"app_id\" value=\"" +
                html::escape(app.id) + "\"><button type=\"submit\">Uninstall " + html::escape(app.name) + "</button></form></div>";
      } else {
        body += "<div><span class=\"muted\">Not installed</span></div><div class=\"buttons\"><a class=\"button primary\" href=\"" +
                html::escape(html::with_query(kWorkplaceInstallPath, {{"app_id", app.id}})) + "\">Install " +
                html::escape(app.name) + "</a></div>";
      }
      body += "</div></section>";
    }
    return html::render({.title = "Integrations", .viewer = visitor.viewer(), .body = std::move(body)});
  }

  Response developer_dialog(const Visitor& visitor, const http::Params& parameters) {
    auto install = parse_install_request(state_, parameters);
    if (!install) return error_page(visitor, install.error());
    return dialog_page(visitor, *install);
  }

  Response dialog_page(const Visitor& visitor, const InstallRequest& install) {
    const App& app = install.app;
    std::string fields = html::csrf_field(visitor.session.csrf_token) + hidden("app_id", app.id);
    if (!install.workplace_initiated) {
      fields += hidden("redirect_uri", install.redirect_uri);
      if (install.state) fields += hidden("state", *install.state);
      std::string permissions;
      for (const auto& code : install.permissions) permissions += (permissions.empty() ? "" : ",") + code;
      fields += hidden("permissions", permissions);
      if (!install.suggested_page_name.empty()) fields += hidden("suggested_page_name", install.suggested_page_name);
    }
    std::string body = "<section class=\"card\"><div class=\"app\">" + app_icon(app) + "<div><h1>Install " +
                       html::escape(app.name) + "?</h1>" + app_summary(app) + "</div></div><p>" + html::escape(app.name) +
                       " will be installed for everyone in <strong>" + html::escape(visitor.community_name) +
                       "</strong> and will be able to:</p><ul>";
    for (const auto& code : install.permissions) body += "<li>" + html::escape(permission_display_name(code)) + "</li>";
    if (install.permissions.empty()) body += "<li class=\"muted\">(no permissions requested)</li>";
    body += "</ul>";
    if (!install.suggested_page_name.empty()) {
      body += "<p>Suggested bot name: <strong>" + html::escape(install.suggested_page_name) + "</strong></p>";
    }
    body += "<p class=\"muted\">Afterwards your browser goes to " + html::escape(install.redirect_uri) + "</p><form method=\"post\" action=\"" +
            html::escape(install.workplace_initiated ? kWorkplaceInstallPath : kDialogPath) + "\">" + fields +
            "<div class=\"buttons\"><button type=\"submit\" name=\"decision\" value=\"install\" class=\"primary\">Install</button>"
            "<button type=\"submit\" name=\"decision\" value=\"cancel\">Cancel</button></div></form></section>";
    return html::render({.title = "Install " + app.name, .viewer = visitor.viewer(), .body = std::move(body)});
  }

  Response answer_install(const Visitor& visitor, const InstallRequest& install) {
    auto code = state_.issue_code(install.app.id, visitor.user.id, install.redirect_uri, install.permissions);
    if (!code) return error_page(visitor, code.error());
    const std::string admin_page = options_.web_url + std::string(kAdminAppsPath);
    return redirect(install_redirect(install, code->code, admin_page), beast_http::status::found);
  }

  static std::string hidden(std::string_view name, std::string_view value) {
    return "<input type=\"hidden\" name=\"" + html::escape(name) + "\" value=\"" + html::escape(value) + "\">";
  }

  // --- chat helpers --------------------------------------------------------------------------------
  static std::string thread_path(const Id& thread_id) { return "/chat/" + html::path_segment(thread_id); }

  std::optional<Thread> visible_thread(const Visitor& visitor, std::string_view thread_id) {
    std::optional<Thread> thread = state_.thread(std::string(thread_id));
    if (!thread) return std::nullopt;
    const auto& people = thread->participants;
    if (std::find(people.begin(), people.end(), visitor.user.id) == people.end()) return std::nullopt;
    return thread;
  }

  std::string bot_name(const Id& page_id) {
    const std::optional<Install> install = state_.install_by_page(page_id);
    const std::optional<App> app = install ? state_.app(install->app_id) : std::nullopt;
    return app ? app->name : "Bot (uninstalled)";
  }

  std::string author(const Id& from, bool from_bot) {
    if (from_bot) return bot_name(from);
    const std::optional<User> user = state_.user(from);
    return user ? user->name : "Unknown person";
  }

  std::string thread_title(const Thread& thread, const Visitor& visitor) {
    if (!thread.name.empty()) return thread.name;
    std::string title = thread.page_id ? bot_name(*thread.page_id) : std::string();
    for (const Id& person : thread.participants) {
      if (person == visitor.user.id) continue;
      title += (title.empty() ? "" : ", ") + author(person, false);
    }
    return title.empty() ? "Conversation" : title;
  }

  // The message list of a conversation and a version that changes whenever a message is added.
  struct ConversationView {
    std::string html;
    std::string version;
  };

  ConversationView conversation_view(const Visitor& visitor, const Thread& thread) {
    std::vector<ChatMessage> messages = state_.messages(thread.id);
    ConversationView view{.version = std::to_string(messages.size())};
    if (!messages.empty()) view.version += "-" + std::to_string(messages.back().sent_at_ms);
    if (messages.size() > kMaxMessagesShown) messages.erase(messages.begin(), messages.end() - kMaxMessagesShown);
    std::vector<MessageView> views;
    views.reserve(messages.size());
    for (const ChatMessage& message : messages) {
      views.push_back({.message = &message, .sender_name = author(message.from, message.from_bot),
                       .mine = !message.from_bot && message.from == visitor.user.id});
    }
    view.html = views.empty() ? "<p class=\"muted\">No messages yet. Say hello.</p>"
                              : render_conversation(views, thread_path(thread.id), visitor.session.csrf_token);
    return view;
  }

  std::string get_started_button(const Visitor& visitor, const Thread& thread, const std::string& path) {
    const std::optional<Install> install = state_.install_by_page(*thread.page_id);
    if (!install) return {};
    const boost::json::object profile = state_.messenger_profile(install->id);
    if (!profile.contains("get_started")) return {};
    return "<form method=\"post\" action=\"" + html::escape(path) + "/get_started\">" +
           html::csrf_field(visitor.session.csrf_token) + "<button type=\"submit\">Get Started</button></form>";
  }

  // Runs `act` for a POST to /chat/{thread_id}/… and sends the browser back to the conversation.
  template <class Act>
  Response thread_action(Request& request, Act act) {
    auto submission = accept_form(request);
    if (auto* refusal = std::get_if<Response>(&submission)) return std::move(*refusal);
    const Submission& accepted = std::get<Submission>(submission);
    const std::optional<Thread> thread = visible_thread(accepted.visitor, request.param("thread_id"));
    if (!thread) return error_page(accepted.visitor, Error(ErrorCode::kNotFound, "This conversation does not exist."));
    if (Result<void> done = act(accepted, *thread); !done) return error_page(accepted.visitor, done.error());
    return redirect(thread_path(thread->id));
  }

  // --- group helpers -------------------------------------------------------------------------------
  static bool is_member(const Group& group, const Visitor& visitor) {
    return std::find(group.members.begin(), group.members.end(), visitor.user.id) != group.members.end();
  }

  std::optional<Group> visible_group(const Visitor& visitor, std::string_view group_id) {
    std::optional<Group> group = state_.group(std::string(group_id));
    if (!group || group->community_id != visitor.user.community_id || !is_member(*group, visitor)) return std::nullopt;
    return group;
  }

  // Returns the "mention a bot" choice of the community's installed bots, or "" when there is none.
  std::string mention_choice(const Visitor& visitor) {
    const std::vector<Install> installs = state_.installs(visitor.user.community_id);
    if (installs.empty()) return {};
    std::string out = "<label>Mention a bot <select name=\"mention\"><option value=\"\">(nobody)</option>";
    for (const Install& install : installs) {
      out += "<option value=\"" + html::escape(install.page_id) + "\">@" + html::escape(bot_name(install.page_id)) + "</option>";
    }
    return out + "</select></label> ";
  }

  std::string text_with_mentions(std::string_view text) {
    return render_mentions(text, [this](const Id& id) -> std::optional<std::string> {
      if (state_.install_by_page(id)) return bot_name(id);
      if (const std::optional<User> user = state_.user(id)) return user->name;
      return std::nullopt;
    });
  }

  std::string comment_html(const Comment& comment) {
    return "<div class=\"comment\"><strong>" + html::escape(author(comment.from, comment.from_bot)) + "</strong> " +
           text_with_mentions(comment.message) + " <span class=\"muted\">" + format_time(comment.created_at) + "</span></div>";
  }

  // Runs `act` for a POST to /groups/{group_id}/… with the message (and the chosen bot mention)
  // and sends the browser back to the feed.
  template <class Act>
  Response group_action(Request& request, Act act) {
    auto submission = accept_form(request);
    if (auto* refusal = std::get_if<Response>(&submission)) return std::move(*refusal);
    const Submission& accepted = std::get<Submission>(submission);
    const std::optional<Group> group = visible_group(accepted.visitor, request.param("group_id"));
    if (!group) return error_page(accepted.visitor, Error(ErrorCode::kNotFound, "This group does not exist."));
    std::string message = accepted.field("message");
    if (const std::string mention = accepted.field("mention"); !mention.empty()) {
      const std::optional<Install> install = state_.install_by_page(mention);
      if (!install || install->community_id != accepted.visitor.user.community_id) {
        return error_page(accepted.visitor, Error(ErrorCode::kNotFound, "That bot is not installed in your community."));
      }
      message = "@[" + mention + "] " + message;
    }
    if (Result<void> done = act(accepted, *group, std::move(message)); !done) return error_page(accepted.visitor, done.error());
    return redirect("/groups/" + html::path_segment(group->id));
  }

  PlatformState& state_;
  PlatformActions& actions_;
  PagesOptions options_;
  Sessions sessions_;
};

Pages::Pages(PlatformState& state, PlatformActions& actions, PagesOptions options)
    : impl_(std::make_shared<Impl>(state, actions, std::move(options))) {}

void Pages::add_routes(http::Router& router) {
  const auto page = [impl = impl_](Impl::Handler handler) {
    return [impl, handler](Request& request) { return Impl::serve(*impl, handler, request); };
  };
  const http::RouteOptions form_limit{.max_body_bytes = kMaxFormBytes};
  router.get("/", page(&Impl::home));
  router.post("/login", page(&Impl::login), form_limit);
  router.post("/logout", page(&Impl::logout), form_limit);
  router.get("/apps/{app_id}/icon.png", page(&Impl::icon));

  router.get("/work/admin", page(&Impl::admin));
  router.post("/work/admin/uninstall", page(&Impl::uninstall), form_limit);
  router.get(kWorkplaceInstallPath, page(&Impl::workplace_dialog));
  router.post(kWorkplaceInstallPath, page(&Impl::workplace_answer), form_limit);
  router.get(kDialogPath, page(&Impl::dialog));
  router.get("/{version}/dialog/work/app_install", page(&Impl::versioned_dialog));
  router.post(kDialogPath, page(&Impl::dialog_answer), form_limit);

  router.get("/chat", page(&Impl::chats));
  router.post("/chat/open", page(&Impl::open_chat), form_limit);
  router.get("/chat/{thread_id}", page(&Impl::conversation));
  router.get("/chat/{thread_id}/messages", page(&Impl::conversation_fragment));
  router.post("/chat/{thread_id}/send", page(&Impl::send), form_limit);
  router.post("/chat/{thread_id}/quick_reply", page(&Impl::quick_reply), form_limit);
  router.post("/chat/{thread_id}/postback", page(&Impl::postback), form_limit);
  router.post("/chat/{thread_id}/get_started", page(&Impl::get_started), form_limit);

  router.get("/groups", page(&Impl::groups));
  router.get("/groups/{group_id}", page(&Impl::group_feed));
  router.post("/groups/{group_id}/post", page(&Impl::post), form_limit);
  router.post("/groups/{group_id}/comment", page(&Impl::comment), form_limit);
}

}  // namespace wik::emulator
