#include "common/validation.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/field_violations.h"
#include "common/status.h"

namespace funnel::common {

absl::Status RequirePositiveId(int64_t id, absl::string_view field) {
  if (id <= 0) return absl::InvalidArgumentError(absl::StrCat(field, ": must be positive"));
  return absl::OkStatus();
}

absl::Status RequireNonNegativeId(int64_t id, absl::string_view field) {
  if (id < 0) return absl::InvalidArgumentError(absl::StrCat(field, ": must not be negative"));
  return absl::OkStatus();
}

absl::Status ValidateMergeIds(int64_t survivor, const std::vector<int64_t>& duplicates,
                              int max_duplicates, absl::string_view survivor_field,
                              absl::string_view duplicates_field) {
  FieldViolations v;
  v.Check(RequirePositiveId(survivor, survivor_field));
  if (duplicates.empty() || duplicates.size() > static_cast<size_t>(max_duplicates)) {
    v.Add(duplicates_field, absl::StrCat("1 to ", max_duplicates, " ids"));
  }
  std::set<int64_t> seen;
  for (int64_t id : duplicates) {
    if (id <= 0) {
      v.Add(duplicates_field, "each must be positive");
      break;
    }
    if (id == survivor) {
      v.Add(duplicates_field, absl::StrCat(id, " is the survivor: nothing merges into itself"));
      break;
    }
    if (!seen.insert(id).second) {
      v.Add(duplicates_field, absl::StrCat(id, " listed twice"));
      break;
    }
  }
  return v.status();
}

absl::Status CheckEtag(absl::string_view given, absl::string_view current, absl::string_view field,
                       absl::string_view resource) {
  if (given.empty() || given == current) return absl::OkStatus();
  return WithReason(absl::AbortedError(absl::StrCat(field, ": stale (current is ", current,
                                                    "); read the ", resource, " again")),
                    errors::v1::STALE_ETAG);
}

absl::StatusOr<std::vector<std::string>> MaskPaths(const google::protobuf::FieldMask& mask,
                                                   const std::set<std::string>& allowed,
                                                   bool required) {
  if (required && mask.paths().empty()) {
    return absl::InvalidArgumentError("update_mask: required; name the fields to change");
  }
  std::vector<std::string> paths;
  for (const std::string& path : mask.paths()) {
    if (allowed.count(path) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("update_mask: ", path, " cannot be updated"));
    }
    paths.push_back(path);
  }
  return paths;
}

absl::Status RequireEnum(int value, bool (*is_valid)(int), absl::string_view field,
                         bool allow_unspecified) {
  if (value == 0 && !allow_unspecified) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  }
  if (!is_valid(value)) return absl::InvalidArgumentError(absl::StrCat(field, ": unknown value"));
  return absl::OkStatus();
}

}  // namespace funnel::common
