#include "install/account_sessions.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "core/ascii.h"

namespace wik::install {
namespace {

constexpr char kSeparator = '.';
constexpr std::size_t kMaxSessionIdBytes = 128;

}  // namespace

AccountSessions::AccountSessions(store::Store& store, const core::Clock& clock, std::chrono::seconds lifetime,
                                 std::size_t max_accounts, LoginLimits limits)
    : store_(store),
      lifetime_(lifetime),
      max_accounts_(max_accounts),
      emails_(clock, limits.max_failures, limits.window, limits.max_keys),
      addresses_(clock, limits.max_failures_per_address, limits.window, limits.max_keys) {
  if (max_accounts == 0 || lifetime.count() <= 0) fatal("AccountSessions: max_accounts and lifetime must be > 0");
}

std::vector<SignedInAccount> AccountSessions::resolve(std::string_view cookie) {
  std::vector<SignedInAccount> accounts;
  std::string_view rest = cookie;
  while (!rest.empty() && accounts.size() < max_accounts_) {
    const std::size_t end = rest.find(kSeparator);
    const std::string_view id = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (id.empty() || id.size() > kMaxSessionIdBytes) continue;
    Secret session_id{std::string(id)};
    const auto session = store_.find_session(session_id);
    if (!session.ok()) continue;
    const bool duplicate = std::ranges::any_of(
        accounts, [&](const SignedInAccount& a) { return a.account.id == session->account_id; });
    if (duplicate) continue;
    auto account = store_.find_account(session->account_id);
    if (account.ok()) accounts.push_back({std::move(session_id), std::move(*account)});
  }
  return accounts;
}

Result<std::string> AccountSessions::sign_in(const std::vector<SignedInAccount>& signed_in, std::string_view email,
                                             const Secret& password, std::string_view client_address) {
  const std::string key = core::ascii_lower(email);
  const std::string address = client_key(client_address);
  const std::pair<std::string_view, std::chrono::seconds> waits[] = {
      {"from this address", addresses_.wait_for(address)}, {"for this email", emails_.wait_for(key)}};
  for (const auto& [which, wait] : waits) {
    if (wait.count() > 0) {
      return Error(ErrorCode::kRateLimited, fmt::format("too many failed attempts {}; try again in {} minutes", which,
                                                        (wait.count() + 59) / 60));
    }
  }
  auto account = store_.authenticate(email, password);
  if (!account.ok()) {
    if (account.error().code() == ErrorCode::kUnauthenticated) {
      emails_.record_failure(key);
      addresses_.record_failure(address);
    }
    return account.error();
  }
  emails_.reset(key);
  auto session = store_.create_session(account->id, lifetime_);
  if (!session.ok()) return session.error();
  std::vector<SignedInAccount> accounts;
  for (const SignedInAccount& other : signed_in) {
    if (other.account.id == account->id) {
      (void)store_.delete_session(other.session_id);  // replaced; already gone is fine
    } else {
      accounts.push_back(other);
    }
  }
  while (accounts.size() + 1 > max_accounts_) {
    (void)store_.delete_session(accounts.front().session_id);  // the oldest makes room; gone is fine
    accounts.erase(accounts.begin());
  }
  accounts.push_back({std::move(session->session_id), std::move(*account)});
  return cookie_value(accounts);
}

void AccountSessions::sign_out(const std::vector<SignedInAccount>& signed_in) {
  for (const SignedInAccount& account : signed_in) (void)store_.delete_session(account.session_id);
}

std::string AccountSessions::cookie_value(const std::vector<SignedInAccount>& accounts) {
  std::string value;
  for (const SignedInAccount& account : accounts) {
    if (!value.empty()) value += kSeparator;
    value += account.session_id.expose();
  }
  return value;
}

}  // namespace wik::install
