#pragma once

// Request checks shared by the handlers of every service. Each returns INVALID_ARGUMENT
// naming the offending field, so a caller can fix the request without guessing.

#include <google/protobuf/field_mask.pb.h>

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace funnel::common {

absl::Status RequirePositiveId(int64_t id, absl::string_view field);
absl::Status RequireNonNegativeId(int64_t id, absl::string_view field);

// A merge's ids (MergeLeads, MergeContacts, MergeAccounts): the survivor
// positive; 1 to `max_duplicates` duplicates, each positive, listed once and not
// the survivor.
absl::Status ValidateMergeIds(int64_t survivor, const std::vector<int64_t>& duplicates,
                              int max_duplicates, absl::string_view survivor_field,
                              absl::string_view duplicates_field);

// The mask's paths, each one of `allowed`; INVALID_ARGUMENT for an unknown path, or
// for an empty mask when `required`.
absl::StatusOr<std::vector<std::string>> MaskPaths(const google::protobuf::FieldMask& mask,
                                                   const std::set<std::string>& allowed,
                                                   bool required);

// Optimistic concurrency (AIP-154): OK when the caller sent no etag or the current
// one; ABORTED "<field>: stale (current is N); read the <resource> again" otherwise.
absl::Status CheckEtag(absl::string_view given, absl::string_view current, absl::string_view field,
                       absl::string_view resource);

// A defined enum value (generated `X_IsValid`), non-zero unless
// `allow_unspecified`.
absl::Status RequireEnum(int value, bool (*is_valid)(int), absl::string_view field,
                         bool allow_unspecified);

}  // namespace funnel::common
