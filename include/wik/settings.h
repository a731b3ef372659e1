// wik::CommunitySetting: a value each community's admins may set for the app (App::community_setting).
//
// An integration declares its settings before run(); the vendor's admin pages show one labelled
// field per setting on each community's page (docs/operating.md), and a handler reads its own
// community's value with Context::setting(), which answers the declared default until an admin
// sets one. Values are text: valid UTF-8 of at most max_length characters, without control
// characters (the admin pages refuse anything else). Declarations are checked when made: a bad
// or repeated name is a programming mistake and aborts.
#pragma once

#include <cstddef>
#include <string>

namespace wik {

struct CommunitySetting {
  std::string name;           // [a-z0-9_], 1-64 characters, unique within the app
  std::string label;          // the field's label on the admin pages
  std::string help;           // one sentence under the field: what the value is used for
  std::string default_value;  // the value until an admin sets one; REQUIRES: a valid value
  std::size_t max_length = 200;  // in characters (code points); REQUIRES: 1 or more
};

}  // namespace wik
