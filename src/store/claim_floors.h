// ClaimFloors: where each community's pending inbox events begin, as this process's claims found
// them, so that a claim on PostgreSQL starts its index scan there instead of at the front of the
// community's range, which handled events leave full of dead index entries until a vacuum.
//
// A floor is the first id a claim took from a community: at that moment the community's oldest
// pending event. It stays a lower bound of the community's pending events except for two rare
// cases: an event committed late with a lower id (another process's insert transaction that
// began before and committed after the claim), and a dead letter replayed to pending. So every
// kFullScanEvery-th claim, and every claim after one that found nothing, scans without floors,
// which such an event waits for at most. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wik::store {

class ClaimFloors {
 public:
  using Floors = std::map<std::string, std::int64_t, std::less<>>;
  static constexpr std::size_t kFullScanEvery = 64;

  // Returns the floors the next claim may use; nullopt when it must scan every community from its
  // front.
  std::optional<Floors> next_claim();
  // Records a claim's result: the (community id, event id) pairs it took, any order. `full_scan`
  // says whether next_claim() gave it no floors.
  void record(bool full_scan, const std::vector<std::pair<std::string, std::int64_t>>& claimed);

 private:
  std::mutex mutex_;
  Floors floors_;
  std::size_t claims_since_full_scan_ = 0;
  bool full_scan_due_ = true;
};

}  // namespace wik::store
