#include "cli/operator.h"

#include <chrono>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "app/database.h"
#include "core/clock.h"
#include "core/key_ring.h"

namespace wik::cli {
namespace {

// The clock every operator store borrows; it outlives them all.
const core::SystemClock kSystemClock;

}  // namespace

Result<std::unique_ptr<store::Store>> open_configured_store(const Config& config, store::StoreOptions options) {
  if (!config.keys.ring) {
    return Error(ErrorCode::kConfig, "keys.ring is not set: set keys.ring_file or WIK_KEYS_RING_FILE to the key ring "
                                     "that sealed the store's tokens (docs/key-ring.md)");
  }
  auto ring = core::KeyRing::parse(config.keys.ring->expose());
  if (!ring) return ring.error();
  auto database = app::open_database(config);
  if (!database) return database.error();
  return store::Store::open(std::move(*database), std::move(*ring), kSystemClock, options);
}

Result<OperatorStore> open_operator_store(const GlobalOptions& global) {
  auto config = load_config(global.config_file);
  if (!config) return config.error();
  auto store = open_configured_store(*config, {.migrate = false});
  if (!store) return store.error();
  return OperatorStore{.config = std::move(*config), .store = std::move(*store)};
}

std::string utc_text(store::TimePoint time) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(time)));
}

}  // namespace wik::cli
