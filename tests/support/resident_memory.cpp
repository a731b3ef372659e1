#include "support/resident_memory.h"

#include <fstream>
#include <string>

namespace wik::testing {

Resident resident_memory(pid_t pid) {
  Resident resident;
  std::ifstream rollup("/proc/" + std::to_string(pid) + "/smaps_rollup");
  for (std::string line; std::getline(rollup, line);) {
    if (line.starts_with("Rss:")) resident.rss_kib = std::stoll(line.substr(4));
    if (line.starts_with("Anonymous:")) resident.anonymous_kib = std::stoll(line.substr(10));
  }
  return resident;
}

}  // namespace wik::testing
