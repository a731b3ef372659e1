#include "store/claim_floors.h"

#include <algorithm>

namespace wik::store {

std::optional<ClaimFloors::Floors> ClaimFloors::next_claim() {
  const std::lock_guard lock(mutex_);
  if (full_scan_due_ || claims_since_full_scan_ + 1 >= kFullScanEvery) return std::nullopt;
  return floors_;
}

void ClaimFloors::record(bool full_scan, const std::vector<std::pair<std::string, std::int64_t>>& claimed) {
  const std::lock_guard lock(mutex_);
  claims_since_full_scan_ = full_scan ? 0 : claims_since_full_scan_ + 1;
  full_scan_due_ = claimed.empty();
  Floors firsts;
  for (const auto& [community, id] : claimed) {
    auto [first, fresh] = firsts.try_emplace(community, id);
    if (!fresh) first->second = std::min(first->second, id);
  }
  // A community the claim did not take from keeps its floor: it was empty, blocked or past the
  // claim's limit, and its pending events still begin at or after where they did.
  for (auto& [community, id] : firsts) floors_.insert_or_assign(community, id);
}

}  // namespace wik::store
