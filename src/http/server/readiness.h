// ReadinessChecks: the dependencies /readyz reports on.
//
// Parts that the service cannot work without (the database, a key ring) add a named check; /readyz
// answers 200 when every check passes and 503 (kUnavailable, naming the failing checks but never
// their error detail) otherwise, and always 503 once the server is draining. Checks run on an I/O
// thread for every /readyz request, so they must be quick and must not block on I/O: report a state
// that is kept up to date elsewhere. Thread-safe.
#pragma once

#include <wik/result.h>

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wik::http {

class ReadinessChecks {
 public:
  using Check = std::function<Result<void>()>;

  struct Outcome {
    std::string name;
    Result<void> result;
  };

  // Adds a check named `name`. REQUIRES: `check` is non-empty.
  void add(std::string name, Check check);

  // Runs every check, in the order added.
  std::vector<Outcome> run() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, Check>> checks_;
};

}  // namespace wik::http
