// Comparison of secret-dependent byte strings in time that does not depend on where they differ.
// The lengths are not secret (digests have fixed lengths) and may be revealed by timing.
#pragma once

#include "core/bytes.h"

namespace wik::core {

// Returns true when `a` and `b` hold the same bytes. Time depends only on the lengths.
bool constant_time_equal(BytesView a, BytesView b) noexcept;

}  // namespace wik::core
