// The checker of the process-fault tests (H1 kill -9, H6 pause, H9 rolling restart;
// docs/RELIABILITY.md): judges a history — the senders' ledgers (webhook_sender.h) — against the
// rows the crash integration's handler wrote, one row per handling of a message.
//   lost        acknowledged, never handled          must be 0
//   dup         handled more than once               must be 0 (the handler commits its row with
//                                                    the event's completion)
//   unexpected  handled rows of no event in the history
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "reliability/webhook_sender.h"

namespace wik::testing {

using HandledRow = std::pair<std::string, std::string>;  // community id, mid

struct HistoryReport {
  std::size_t sent = 0;           // events attempted at least once
  std::size_t acknowledged = 0;   // events that got a 2xx
  std::size_t indeterminate = 0;  // events with at least one attempt sent without an answer
  std::size_t handled = 0;        // events of the history handled at least once
  std::size_t lost = 0;           // acknowledged, never handled
  std::size_t duplicated = 0;     // handled more than once
  std::size_t unexpected = 0;     // handled rows of no event in the history
};

// Judges `history` against `handled_rows`, the rows the handler wrote (one per handling).
HistoryReport check_history(const std::vector<LedgerEntry>& history, const std::vector<HandledRow>& handled_rows);

// Describes the first events of `history` that were never acknowledged, for a failure message.
std::string unacknowledged_events(const std::vector<LedgerEntry>& history);

}  // namespace wik::testing
