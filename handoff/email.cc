#include "handoff/email.h"

#include <idn2.h>

#include <algorithm>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/utf8.h"

namespace funnel::handoff {
namespace {

// Code points that print as nothing (or as a blank) and so make two addresses that
// look the same differ: Unicode spaces, zero-width and bidi controls, C1 controls,
// variation selectors, tags.
bool IsInvisible(char32_t c) {
  return (c >= 0x80 && c <= 0xA0) || c == 0xAD || c == 0x34F || c == 0x61C || c == 0x115F ||
         c == 0x1160 || c == 0x1680 || c == 0x17B4 || c == 0x17B5 || (c >= 0x180B && c <= 0x180F) ||
         (c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F) ||
         (c >= 0x205F && c <= 0x206F) || c == 0x3000 || c == 0x3164 ||
         (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF || c == 0xFFA0 ||
         (c >= 0x1D173 && c <= 0x1D17A) || (c >= 0xE0000 && c <= 0xE0FFF);
}

// Decodes UTF-8 into `out`; false for bytes that are not well-formed UTF-8.
bool DecodeUtf8(absl::string_view s, std::vector<char32_t>* out) {
  for (size_t i = 0; i < s.size();) {
    const common::Utf8CodePoint c = common::NextCodePoint(s, i);
    if (c.length == 0) return false;
    out->push_back(c.value);
    i += c.length;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> NormalizeEmail(absl::string_view email, absl::string_view field) {
  std::string out = absl::AsciiStrToLower(absl::StripAsciiWhitespace(email));
  auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
  };
  if (out.empty()) return invalid("required");
  if (out.size() > 320) return invalid("longer than 320 characters");
  const size_t at = out.find('@');
  if (at == std::string::npos || at == 0 || out.find('@', at + 1) != std::string::npos) {
    return invalid("not a valid address");
  }
  // A domain of labels: at least two, none empty.
  auto labelled = [](absl::string_view domain) {
    const size_t dot = domain.find('.');
    return dot != absl::string_view::npos && dot != 0 && domain.back() != '.' &&
           domain.find("..") == absl::string_view::npos;
  };
  if (!labelled(absl::string_view(out).substr(at + 1))) return invalid("not a valid address");
  for (char c : out) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) ||
        absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
      return invalid("not a valid address");
    }
  }
  std::vector<char32_t> code_points;
  if (!DecodeUtf8(out, &code_points)) return invalid("not valid UTF-8");
  for (char32_t c : code_points) {
    if (IsInvisible(c)) return invalid("contains an invisible or control character");
  }
  // An internationalized domain is one domain however it is written: UTS #46 maps
  // it (case folding included, so "Ä" is "ä") to its A-label, which is turned back
  // into the lower-case U-label people read. "xn--" forms get the same treatment.
  const size_t domain_at = out.find('@') + 1;
  const absl::string_view written = absl::string_view(out).substr(domain_at);
  const bool ascii = std::all_of(written.begin(), written.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (!ascii || absl::StrContains(written, "xn--")) {
    const std::string domain(written);
    char* a_label = nullptr;
    if (idn2_to_ascii_8z(domain.c_str(), &a_label, IDN2_NONTRANSITIONAL) != IDN2_OK) {
      return invalid("the domain is not a valid internationalized domain name");
    }
    char* u_label = nullptr;
    int rc = idn2_to_unicode_8z8z(a_label, &u_label, 0);
    // libidn2 passes an "xn--" label through without checking what it decodes to:
    // one whose U-label UTS #46 would map again ("⒥" is "(j)") is not a valid
    // A-label, and taking it would make the same domain normalise two ways.
    char* again = nullptr;
    if (rc == IDN2_OK) rc = idn2_to_ascii_8z(u_label, &again, IDN2_NONTRANSITIONAL);
    const bool stable = rc == IDN2_OK && std::string_view(again) == std::string_view(a_label);
    idn2_free(a_label);
    idn2_free(again);
    if (!stable) {
      idn2_free(u_label);
      return invalid("the domain is not a valid internationalized domain name");
    }
    out = absl::StrCat(out.substr(0, domain_at), u_label);
    idn2_free(u_label);
    // UTS #46 maps other full stops ("。") to '.': the mapped domain must still be
    // labelled, or normalising the result again would refuse it.
    if (!labelled(absl::string_view(out).substr(domain_at))) return invalid("not a valid address");
    if (out.size() > 320) return invalid("longer than 320 characters");
  }
  return out;
}

}  // namespace funnel::handoff
