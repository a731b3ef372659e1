// Helpdesk: the example integration of issue 8, written against include/wik/ only.
//
// Employees write to the bot in Work Chat; a message that is not a command opens a ticket, the
// bot asks its category with quick replies and answers with the ticket's link. "status N", "list"
// and "close N" work in chat (and their translations), "help" gives in-product help. Mentioning
// the bot in a group post opens a ticket from the post and comments its link under the post. The
// vendor's admin page lists each community's tickets and lets an agent answer, which the bot
// delivers in Work Chat. Each community's admins set its support hours on the kit's community page
// (a community setting), which the bot tells people when their ticket is filed. Every text is localized (locales/*.json) in the person's language.
// The tickets live in the registered `tickets` table, so an uninstall purges them.
#pragma once

#include <wik/app.h>
#include <wik/i18n.h>

#include <string>

namespace helpdesk {

struct Settings {
  std::string public_url;       // where tickets are linked, e.g. http://127.0.0.1:8080
  std::string support_contact;  // named in the help text
};

// Registers the helpdesk's schema, tables, handlers and admin page on `app`. `catalogs` and
// `settings` are copied.
void install_helpdesk(wik::App& app, wik::Catalogs catalogs, Settings settings);

}  // namespace helpdesk
