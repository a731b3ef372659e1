// Account linking for a Context (include/wik/account_link.h, docs/identities.md): what
// CommunityContext's linked_account(), account_link_url() and unlink_account() do, for the person
// an event came from in one community.
//
// Store calls run on the kit's blocking pool (with the services' deadline); the person's name and
// email are read through the Context's own Graph call, so as that community and only with the
// permissions its install granted. URLs point at the kit's link page (identity/link_pages.h).
// Coroutines the caller awaits directly; they borrow their arguments.
#pragma once

#include <wik/account_link.h>
#include <wik/config.h>
#include <wik/context.h>
#include <wik/result.h>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace wik::app {

struct ContextServices;

// Where and how the App's account-link URLs are made.
struct AccountLinkSettings {
  std::string base_url;  // scheme://host[:port] of the server, without a trailing '/'
  std::string path;      // the link page's path
  std::chrono::seconds lifetime = AccountLinkOptions{}.lifetime;
};

// Returns the base of the App's URLs: server.public_url when set, else the loopback address the
// server listens on (`port`), which only a browser on the same machine reaches.
std::string link_base_url(const Config& config, std::uint16_t port);

// The Context calls, for `person_id` (who caused the event; "" when no one) of `context`'s community.
boost::asio::awaitable<Result<std::optional<LinkedAccount>>> linked_account(ContextServices& services,
                                                                            const Context& context,
                                                                            const std::string& person_id);
boost::asio::awaitable<Result<std::string>> account_link_url(ContextServices& services, Context& context,
                                                             const std::string& person_id);
boost::asio::awaitable<Result<void>> unlink_account(ContextServices& services, const Context& context,
                                                    const std::string& person_id);

}  // namespace wik::app
