#pragma once

// Reading UTF-8 one code point at a time, strictly: no overlong forms, no
// surrogates, nothing past U+10FFFF.

#include <cstddef>

#include "absl/strings/string_view.h"

namespace funnel::common {

// The code point that starts at s[at], and how many bytes it takes; length 0 when
// the bytes there are not a well-formed UTF-8 sequence (or are cut short).
struct Utf8CodePoint {
  char32_t value = 0;
  size_t length = 0;
};
Utf8CodePoint NextCodePoint(absl::string_view s, size_t at);

}  // namespace funnel::common
