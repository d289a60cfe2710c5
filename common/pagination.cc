#include "common/pagination.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace funnel::common {

absl::StatusOr<int> PageSize(int32_t requested) {
  if (requested < 0) return absl::InvalidArgumentError("page_size: must not be negative");
  if (requested == 0) return kDefaultPageSize;
  return std::min<int>(requested, kMaxPageSize);
}

std::string EncodePageToken(absl::string_view scope, const std::vector<std::string>& key) {
  std::vector<std::string> escaped;
  // '|' separates the parts, so it is escaped too (CHexEscape leaves it); in octal,
  // which unlike \x ends after three digits whatever follows.
  for (const std::string& part : key) {
    escaped.push_back(absl::StrReplaceAll(absl::CHexEscape(part), {{"|", "\\174"}}));
  }
  return absl::WebSafeBase64Escape(absl::StrCat("v1|", absl::StrReplaceAll(scope, {{"|", "/"}}),
                                                "|", absl::StrJoin(escaped, "|")));
}

absl::StatusOr<std::vector<std::string>> DecodePageToken(absl::string_view scope,
                                                         absl::string_view token,
                                                         size_t key_parts) {
  if (token.empty()) return std::vector<std::string>{};
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) {
    return absl::InvalidArgumentError("page_token: malformed");
  }
  std::vector<std::string> parts = absl::StrSplit(raw, '|');
  if (parts.size() != key_parts + 2 || parts[0] != "v1") {
    return absl::InvalidArgumentError("page_token: malformed");
  }
  if (parts[1] != absl::StrReplaceAll(scope, {{"|", "/"}})) {
    return absl::InvalidArgumentError("page_token: belongs to a different listing or filter");
  }
  std::vector<std::string> key;
  for (size_t i = 2; i < parts.size(); ++i) {
    std::string part;
    if (!absl::CUnescape(parts[i], &part))
      return absl::InvalidArgumentError("page_token: malformed");
    key.push_back(std::move(part));
  }
  return key;
}

absl::StatusOr<int64_t> DecodeIdToken(absl::string_view scope, absl::string_view token) {
  absl::StatusOr<std::vector<std::string>> key = DecodePageToken(scope, token, 1);
  if (!key.ok()) return key.status();
  int64_t after = 0;
  if (!key->empty() && !absl::SimpleAtoi((*key)[0], &after)) {
    return absl::InvalidArgumentError("page_token: malformed");
  }
  return after;
}

}  // namespace funnel::common
