#include "common/validation.h"

#include "absl/strings/ascii.h"

#include "absl/strings/str_cat.h"

namespace funnel::common {

absl::Status RequirePositiveId(int64_t id, absl::string_view field) {
  if (id <= 0) return absl::InvalidArgumentError(absl::StrCat(field, ": must be positive"));
  return absl::OkStatus();
}

absl::Status RequireNonNegativeId(int64_t id, absl::string_view field) {
  if (id < 0) return absl::InvalidArgumentError(absl::StrCat(field, ": must not be negative"));
  return absl::OkStatus();
}

absl::Status ValidateMoney(const handoff::v1::Money& m, absl::string_view field) {
  if (m.amount_minor() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must not be negative"));
  }
  if (m.amount_minor() != 0 || !m.currency_code().empty()) {
    const std::string& code = m.currency_code();
    if (code.size() != 3 || !absl::ascii_isupper(code[0]) || !absl::ascii_isupper(code[1]) ||
        !absl::ascii_isupper(code[2])) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".currency_code: must be an ISO 4217 code such as USD"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateContactFields(const handoff::v1::Contact& c, absl::string_view prefix) {
  const struct {
    const char* name;
    const std::string& value;
    size_t max;
  } fields[] = {{"first_name", c.first_name(), 200}, {"last_name", c.last_name(), 200},
                {"company", c.company(), 200},       {"title", c.title(), 200},
                {"phone", c.phone(), 64},            {"industry", c.industry(), 100},
                {"region", c.region(), 100}};
  for (const auto& f : fields) {
    if (f.value.size() > f.max) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, f.name, ": longer than ", f.max, " characters"));
    }
  }
  if (c.company_size() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "company_size: must not be negative"));
  }
  return absl::OkStatus();
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
