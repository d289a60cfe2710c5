#include "common/feed/resume_token.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace funnel::feed {
namespace {
constexpr absl::string_view kVersion = "feed1";
}  // namespace

std::string EncodeResumeToken(absl::string_view feed, int64_t seq) {
  return absl::WebSafeBase64Escape(absl::StrCat(kVersion, ":", feed, ":", seq));
}

absl::StatusOr<int64_t> DecodeResumeToken(absl::string_view feed, absl::string_view token) {
  std::string plain;
  int64_t seq = 0;
  absl::string_view rest;
  if (absl::WebSafeBase64Unescape(token, &plain)) rest = plain;
  if (!absl::ConsumePrefix(&rest, absl::StrCat(kVersion, ":", feed, ":")) ||
      !absl::SimpleAtoi(rest, &seq) || seq < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("resume_token: not a token of the ", feed, " change feed"));
  }
  return seq;
}

}  // namespace funnel::feed
