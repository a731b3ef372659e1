// wik::testing::Sandbox: an integration's App running against an in-process emulator, for the
// integration's own tests (docs/guide.md, "Testing your integration").
//
//   auto sandbox = wik::testing::Sandbox::start([](wik::App& app) { app.on_message(on_message); });
//   auto bruno = sandbox.value()->person("bruno@acme.example").value();
//   auto replies = sandbox.value()->say(bruno, "my laptop won't start").value();
//   EXPECT_EQ(replies[0].text, "Ticket #1 is open …");
//
// start() runs the emulator (seed community "Acme Corp" and its people) and the App on free
// loopback ports with a throw-away SQLite store, key ring and secrets in a temporary folder,
// installs the app in the seed community as its system administrator and subscribes its webhooks,
// so a person's message reaches the App's handlers as a signed webhook and its replies come back
// through the Send API, exactly as in production. The helpers act as a person and wait (up to the
// timeout) for what the bot sent, or act as the person's browser on the kit's pages (link_account).
// Everything is stopped and deleted when the Sandbox is destroyed.
// Not thread-safe: use one Sandbox from one test thread.
#pragma once

#include <wik/app.h>
#include <wik/result.h>
#include <wik/secret.h>

#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace wik::testing {

struct SandboxOptions {
  std::vector<std::string> permissions = {"message", "bot_mention"};  // what the app requests
  std::string page_fields = "messages,messaging_postbacks,mention";    // page webhooks subscribed
  std::chrono::milliseconds timeout = std::chrono::seconds(10);        // how long helpers wait
};

// A person of the seed community.
struct Person {
  std::string id;  // the platform's id of the person (the emulator's), not the app-scoped one
  std::string name;
  std::string email;
  std::string locale;
};

// A message the bot sent to a person.
struct BotMessage {
  std::string mid;
  std::string thread_id;
  std::string text;  // the text, or a template's text; "" for a generic template
  std::vector<std::string> quick_replies;  // their titles, in order
  boost::json::value message;              // what the Send API accepted, verbatim
};

class Sandbox {
 public:
  // Starts the emulator and an App made from `setup` (which registers handlers, schema, tables,
  // pages) against it, installed and subscribed. Errors: the App's start() error, or kUnavailable
  // when the emulator cannot start.
  static Result<std::unique_ptr<Sandbox>> start(const std::function<void(App&)>& setup, SandboxOptions options = {});
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  App& app();
  // The seed community the app is installed in.
  const std::string& community_id() const;
  // The people of the seed community; person() finds one by email (kNotFound otherwise).
  std::vector<Person> people() const;
  Result<Person> person(std::string_view email) const;

  // Writes `text` to the bot as `person` and returns the bot's next `replies` messages to them
  // (kTimeout when fewer came within the timeout).
  Result<std::vector<BotMessage>> say(const Person& person, const std::string& text, std::size_t replies = 1);
  // Presses quick reply `index` of `message` as `person`; returns the bot's next `replies` messages.
  Result<std::vector<BotMessage>> press(const Person& person, const BotMessage& message, std::size_t index,
                                        std::size_t replies = 1);
  // Every message the bot sent to `person`, oldest first.
  std::vector<BotMessage> messages_to(const Person& person) const;
  // Uninstalls the app as the community's system administrator (the platform then calls the
  // app's deauthorize callback).
  Result<void> uninstall();

  // ---- Account linking (docs/identities.md)
  // Creates one of the vendor's own accounts (what the sign-in page accepts) in the App's store and
  // returns its id: kConflict when the email is taken.
  Result<std::int64_t> create_account(std::string_view email, const Secret& password,
                                      std::string_view role = "member");
  // Does what a person does with a link URL from Context::account_link_url(), in a fresh browser:
  // opens it, signs in as `email` and confirms. Errors name the page that refused: kNotFound
  // (unknown link), kConflict (used), kExpired, kUnauthenticated (wrong email or password),
  // kPermissionDenied (refused otherwise), kUnavailable (no answer).
  Result<void> link_account(const std::string& url, std::string_view email, const Secret& password);

 private:
  class Impl;
  explicit Sandbox(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wik::testing
