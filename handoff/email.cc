#include "handoff/email.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace funnel::handoff {

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
  const absl::string_view domain = absl::string_view(out).substr(at + 1);
  const size_t dot = domain.find('.');
  if (dot == absl::string_view::npos || dot == 0 || domain.back() == '.' ||
      domain.find("..") != absl::string_view::npos) {
    return invalid("not a valid address");
  }
  for (char c : out) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) ||
        absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
      return invalid("not a valid address");
    }
  }
  return out;
}

}  // namespace funnel::handoff
