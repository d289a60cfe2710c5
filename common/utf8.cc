#include "common/utf8.h"

namespace funnel::common {

Utf8CodePoint NextCodePoint(absl::string_view s, size_t at) {
  static constexpr char32_t kSmallest[] = {0, 0x80, 0x800, 0x10000};  // per extra byte count
  const unsigned char lead = static_cast<unsigned char>(s[at]);
  int extra;
  if (lead < 0x80) {
    return {lead, 1};
  } else if ((lead >> 5) == 0x6) {
    extra = 1;
  } else if ((lead >> 4) == 0xE) {
    extra = 2;
  } else if ((lead >> 3) == 0x1E) {
    extra = 3;
  } else {
    return {};
  }
  if (at + extra >= s.size()) return {};  // cut short
  char32_t c = lead & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) {
    const unsigned char next = static_cast<unsigned char>(s[at + k]);
    if ((next & 0xC0) != 0x80) return {};
    c = (c << 6) | (next & 0x3F);
  }
  if (c < kSmallest[extra] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return {};
  return {c, static_cast<size_t>(extra) + 1};
}

}  // namespace funnel::common
