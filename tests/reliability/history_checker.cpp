#include "reliability/history_checker.h"

#include <map>

namespace wik::testing {

HistoryReport check_history(const std::vector<LedgerEntry>& history, const std::vector<HandledRow>& handled_rows) {
  std::map<HandledRow, int> handlings;
  for (const HandledRow& row : handled_rows) ++handlings[row];
  HistoryReport report;
  for (const LedgerEntry& event : history) {
    const auto found = handlings.find({event.community_id, event.mid});
    const int times = found == handlings.end() ? 0 : found->second;
    if (found != handlings.end()) handlings.erase(found);
    ++report.sent;
    if (event.acknowledged) ++report.acknowledged;
    if (event.indeterminate > 0) ++report.indeterminate;
    if (times > 0) ++report.handled;
    if (event.acknowledged && times == 0) ++report.lost;
    if (times > 1) ++report.duplicated;
  }
  report.unexpected = handlings.size();
  return report;
}

std::string unacknowledged_events(const std::vector<LedgerEntry>& history) {
  constexpr int kShown = 10;
  std::string text;
  int shown = 0;
  for (const LedgerEntry& event : history) {
    if (event.acknowledged) continue;
    if (shown++ == kShown) break;
    text += "\n  " + event.community_id + " " + event.mid + ": attempts=" + std::to_string(event.attempts) +
            " refused=" + std::to_string(event.refused) + " rejected=" + std::to_string(event.rejected) +
            " (last status " + std::to_string(event.last_status) + ") indeterminate=" +
            std::to_string(event.indeterminate);
  }
  return text;
}

}  // namespace wik::testing
