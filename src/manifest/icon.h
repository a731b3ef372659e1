// inspect_png: the facts about an icon file that the platform's review cares about, read with
// libpng without trusting the file (bounded size, errors as values, never a crash or an abort).
#pragma once

#include <wik/result.h>

#include <cstdint>
#include <filesystem>

namespace wik::manifest {

struct IconFacts {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  bool has_alpha = false;               // an alpha channel or a tRNS chunk
  bool transparent_corners = false;     // all four corner pixels fully transparent
};

// The largest icon file read; bigger files are refused (kTooLarge) before decoding.
inline constexpr std::uintmax_t kMaxIconFileBytes = 8 * 1024 * 1024;
// The largest dimension decoded; bigger images are refused (kTooLarge) before allocating rows.
inline constexpr std::uint32_t kMaxIconDimension = 4096;

// Returns the icon's facts: kNotFound when the file is missing, kMalformed when it is not a valid
// PNG, kTooLarge beyond the limits above.
Result<IconFacts> inspect_png(const std::filesystem::path& file);

}  // namespace wik::manifest
