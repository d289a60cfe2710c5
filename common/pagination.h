#pragma once

// Keyset pagination (AIP-158): a page token is an opaque, versioned encoding of the
// sort key of the last row served; the next page starts strictly after it, so rows
// inserted meanwhile never shift what was already served.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace funnel::common {

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 1000;

// 0 means the default; above the maximum is clamped; negative is INVALID_ARGUMENT.
absl::StatusOr<int> PageSize(int32_t requested);

// Encodes the sort key of the last row of a page. `scope` ties the token to the
// listing (and its filters) that made it.
std::string EncodePageToken(absl::string_view scope, const std::vector<std::string>& key);

// Decodes a token made by EncodePageToken with the same scope; an empty token gives
// an empty key (the first page). INVALID_ARGUMENT "page_token: ..." otherwise.
absl::StatusOr<std::vector<std::string>> DecodePageToken(absl::string_view scope,
                                                         absl::string_view token, size_t key_parts);

// For listings ordered by one id: the last id served (0 for the first page).
absl::StatusOr<int64_t> DecodeIdToken(absl::string_view scope, absl::string_view token);

// After fetching up to page_size + 1 rows into `items`: drops the extra row and
// returns the next page's token (empty on the last page).
template <typename Items, typename IdOf>
std::string TrimPage(Items* items, int page_size, absl::string_view scope, IdOf id_of) {
  if (items->size() <= page_size) return "";
  items->RemoveLast();
  return EncodePageToken(scope, {std::to_string(id_of((*items)[page_size - 1]))});
}

}  // namespace funnel::common
