// Anchors the wik_test_support library; the matchers themselves are header-only.
#include "support/result_matchers.h"
