// How the store keeps values in TEXT columns: a list of words (an installation's permissions),
// separated by single spaces (words hold no space), and an installation's state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "store/records.h"

namespace wik::store {

inline std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& word : words) out.append(out.empty() ? "" : " ").append(word);
  return out;
}

inline std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  while (!text.empty()) {
    const std::size_t space = text.find(' ');
    if (space != 0) words.emplace_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return words;
}

inline InstallState install_state_from(std::string_view text) {
  return text == "active" ? InstallState::kActive : InstallState::kRevoked;
}

}  // namespace wik::store
