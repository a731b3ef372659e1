#include "emulator/pages/chat_view.h"

#include <boost/json/value.hpp>

#include <cctype>

#include "emulator/pages/html.h"

namespace wik::emulator {
namespace {

namespace json = boost::json;

std::string_view string_field(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  if (value == nullptr || !value->is_string()) return {};
  const json::string& text = value->get_string();
  return {text.data(), text.size()};
}

const json::array* array_field(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  return value == nullptr ? nullptr : value->if_array();
}

const json::object* object_field(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  return value == nullptr ? nullptr : value->if_object();
}

// What every form of one message carries.
struct MessageForms {
  std::string_view thread_path;
  std::string_view csrf_token;
  std::string_view mid;

  std::string button(std::string_view action, std::size_t index, std::string_view title) const {
    return "<form method=\"post\" action=\"" + html::escape(thread_path) + "/" + std::string(action) + "\">" +
           html::csrf_field(csrf_token) + "<input type=\"hidden\" name=\"mid\" value=\"" + html::escape(mid) +
           "\"><input type=\"hidden\" name=\"index\" value=\"" + std::to_string(index) + "\"><button type=\"submit\">" +
           html::escape(title) + "</button></form>";
  }
};

std::string link(std::string_view url, std::string_view title) {
  if (!html::is_web_url(url)) return "<span class=\"button\">" + html::escape(title) + "</span>";
  return "<a class=\"button\" href=\"" + html::escape(url) + "\" target=\"_blank\" rel=\"noopener noreferrer\">" +
         html::escape(title) + "</a>";
}

// Appends the buttons of a template; `counter` numbers them across the whole message.
void render_buttons(const json::array& buttons, const MessageForms& forms, std::size_t& counter, std::string& out) {
  out += "<div class=\"buttons\">";
  for (const json::value& item : buttons) {
    const std::size_t index = counter++;
    const json::object* button = item.if_object();
    if (button == nullptr) continue;
    const std::string_view type = string_field(*button, "type");
    const std::string_view title = string_field(*button, "title");
    if (type == "postback") {
      out += forms.button("postback", index, title);
    } else if (type == "web_url") {
      out += link(string_field(*button, "url"), title);
    } else {
      std::string label(title);
      if (const auto payload = string_field(*button, "payload"); type == "phone_number" && !payload.empty()) {
        label += " (" + std::string(payload) + ")";
      }
      out += "<span class=\"button\">" + html::escape(label) + "</span>";
    }
  }
  out += "</div>";
}

void render_attachment(const json::object& attachment, const MessageForms& forms, std::string& out) {
  const std::string_view type = string_field(attachment, "type");
  const json::object* payload = object_field(attachment, "payload");
  if (payload == nullptr) return;
  if (type != "template") {
    out += "<div>" + link(string_field(*payload, "url"), "[" + std::string(type) + "]") + "</div>";
    return;
  }
  std::size_t counter = 0;
  const std::string_view template_type = string_field(*payload, "template_type");
  if (template_type == "button") {
    out += "<div>" + html::escape(string_field(*payload, "text")) + "</div>";
    if (const json::array* buttons = array_field(*payload, "buttons")) render_buttons(*buttons, forms, counter, out);
    return;
  }
  const json::array* elements = array_field(*payload, "elements");
  if (elements == nullptr) {
    out += "<div class=\"muted\">[" + html::escape(template_type) + " template]</div>";
    return;
  }
  for (const json::value& item : *elements) {
    const json::object* element = item.if_object();
    if (element == nullptr) continue;
    out += "<div class=\"element\"><strong>" + html::escape(string_field(*element, "title")) + "</strong>";
    if (const auto subtitle = string_field(*element, "subtitle"); !subtitle.empty()) {
      out += "<div class=\"muted\">" + html::escape(subtitle) + "</div>";
    }
    if (const auto image = string_field(*element, "image_url"); !image.empty()) {
      out += "<div>" + link(image, "[image]") + "</div>";
    }
    if (const json::object* action = object_field(*element, "default_action")) {
      out += "<div>" + link(string_field(*action, "url"), "Open") + "</div>";
    }
    if (const json::array* buttons = array_field(*element, "buttons")) render_buttons(*buttons, forms, counter, out);
    out += "</div>";
  }
}

void render_quick_replies(const json::array& replies, const MessageForms& forms, std::string& out) {
  out += "<div class=\"quick\">";
  for (std::size_t index = 0; index < replies.size(); ++index) {
    const json::object* reply = replies[index].if_object();
    if (reply == nullptr) continue;
    std::string_view title = string_field(*reply, "title");
    if (title.empty()) title = string_field(*reply, "content_type");
    out += forms.button("quick_reply", index, title);
  }
  out += "</div>";
}

}  // namespace

std::string render_conversation(const std::vector<MessageView>& messages, std::string_view thread_path,
                                std::string_view csrf_token) {
  std::string out;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const MessageView& view = messages[i];
    const ChatMessage& message = *view.message;
    const MessageForms forms{.thread_path = thread_path, .csrf_token = csrf_token, .mid = message.mid};
    out += view.mine ? "<div class=\"msg mine\">" : "<div class=\"msg\">";
    out += "<div class=\"muted\">" + html::escape(view.sender_name) + "</div>";
    if (const json::object* body = message.message.if_object()) {
      if (const auto text = string_field(*body, "text"); !text.empty()) out += html::escape(text);
      if (const json::object* attachment = object_field(*body, "attachment")) render_attachment(*attachment, forms, out);
      const json::array* quick_replies = array_field(*body, "quick_replies");
      if (quick_replies != nullptr && message.from_bot && i + 1 == messages.size()) {
        render_quick_replies(*quick_replies, forms, out);
      }
    }
    out += "</div>";
  }
  return out;
}

std::string render_mentions(std::string_view text, const std::function<std::optional<std::string>(const Id&)>& name_of) {
  std::string out;
  while (!text.empty()) {
    const std::size_t start = text.find("@[");
    out += html::escape(text.substr(0, start));
    if (start == std::string_view::npos) break;
    text.remove_prefix(start);
    std::size_t end = 2;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end])) != 0) ++end;
    std::optional<std::string> name;
    if (end > 2 && end < text.size() && text[end] == ']') name = name_of(std::string(text.substr(2, end - 2)));
    if (name) {
      out += "<span class=\"mention\">@" + html::escape(*name) + "</span>";
      text.remove_prefix(end + 1);
    } else {
      out += "@";
      text.remove_prefix(1);
    }
  }
  return out;
}

}  // namespace wik::emulator
