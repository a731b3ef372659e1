// Environment: where configuration looks up environment variables. The seam lets tests and
// embedders supply variables without touching the process environment: ProcessEnvironment reads
// the real one (getenv), MapEnvironment a fixed set given at construction.
// Both are immutable after construction and safe to read from any thread (ProcessEnvironment as
// long as nothing calls setenv concurrently).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace wik::config {

class Environment {
 public:
  virtual ~Environment() = default;

  // Returns the value of the variable `name`, or nullopt when it is not set.
  virtual std::optional<std::string> get(std::string_view name) const = 0;
};

class ProcessEnvironment final : public Environment {
 public:
  // wik::config::Environment
  std::optional<std::string> get(std::string_view name) const override;
};

class MapEnvironment final : public Environment {
 public:
  MapEnvironment() = default;
  explicit MapEnvironment(std::map<std::string, std::string, std::less<>> variables)
      : variables_(std::move(variables)) {}

  // wik::config::Environment
  std::optional<std::string> get(std::string_view name) const override;

 private:
  std::map<std::string, std::string, std::less<>> variables_;
};

}  // namespace wik::config
