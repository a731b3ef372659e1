// GoogleTest matchers for wik::Result, so a test names the exact failure it expects:
//   EXPECT_THAT(verify(...), IsOk());
//   EXPECT_THAT(verify(...), HasError(wik::ErrorCode::kBadSignature));
//   EXPECT_THAT(parse(...), HasError(wik::ErrorCode::kConfig, HasSubstr("server.port")));
// There is deliberately no "any error" matcher.
#pragma once

#include <gmock/gmock.h>
#include <wik/result.h>

#include <ostream>

namespace wik {

inline void PrintTo(const Error& error, std::ostream* out) {
  *out << to_string(error.code()) << ": " << error.reason();
}

template <class T>
void PrintTo(const Result<T>& result, std::ostream* out) {
  if (result.ok()) {
    *out << "ok";
  } else {
    PrintTo(result.error(), out);
  }
}

}  // namespace wik

namespace wik::testing {

MATCHER(IsOk, "is a successful wik::Result") {
  if (arg.ok()) return true;
  *result_listener << "which failed with " << to_string(arg.error().code()) << ": " << arg.error().reason();
  return false;
}

MATCHER_P(HasError, code, "fails with wik::ErrorCode " + std::string(to_string(code))) {
  if (arg.ok()) {
    *result_listener << "which succeeded";
    return false;
  }
  *result_listener << "which failed with " << to_string(arg.error().code()) << ": " << arg.error().reason();
  return arg.error().code() == code;
}

MATCHER_P2(HasError, code, reason_matcher,
           "fails with wik::ErrorCode " + std::string(to_string(code)) + " and a reason that " +
               ::testing::DescribeMatcher<std::string>(reason_matcher)) {
  if (arg.ok()) {
    *result_listener << "which succeeded";
    return false;
  }
  *result_listener << "which failed with " << to_string(arg.error().code()) << ": " << arg.error().reason();
  return arg.error().code() == code &&
         ::testing::ExplainMatchResult(reason_matcher, arg.error().reason(), result_listener);
}

}  // namespace wik::testing
