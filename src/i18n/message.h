// Message: one ICU MessageFormat pattern compiled for one locale, formatted with named arguments.
// Compiling checks the pattern the way ICU will use it and records the argument names it uses.
// format() may be called from any number of threads: each Message uses its ICU formatter under a
// mutex of its own, because ICU formatters build parts of themselves lazily inside const calls.
#pragma once

#include <wik/i18n.h>
#include <wik/result.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wik::i18n {

class Message {
 public:
  // Compiles `pattern` for `locale` (a catalog locale name such as "fr_CA"), with dates and times
  // in UTC. Fails with kInvalidArgument saying what ICU rejected and where.
  static Result<Message> compile(std::string pattern, std::string locale);

  Message(Message&&) noexcept;
  Message& operator=(Message&&) noexcept;
  ~Message();

  // Returns the message formatted with `args`, dates and times in `time_zone` (an IANA id; an
  // unknown one means UTC), or nullopt when ICU cannot format `args` with this pattern.
  std::optional<std::string> format(const MessageArgs& args, std::string_view time_zone) const;

  // Returns the names of the arguments the pattern uses, sorted, each once ("0" for {0}).
  const std::vector<std::string>& argument_names() const noexcept { return argument_names_; }

 private:
  struct Formatter;
  Message(std::string pattern, std::string locale, std::vector<std::string> argument_names,
          std::unique_ptr<Formatter> utc);

  std::string pattern_;
  std::string locale_;
  std::vector<std::string> argument_names_;
  std::unique_ptr<Formatter> utc_;
};

}  // namespace wik::i18n
