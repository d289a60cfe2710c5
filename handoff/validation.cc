#include "handoff/validation.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/field_violations.h"

namespace funnel::handoff {

absl::Status ValidateMoney(const v1::Money& m, absl::string_view field) {
  common::FieldViolations v;
  if (m.amount_minor() < 0) v.Add(absl::StrCat(field, ".amount_minor"), "must not be negative");
  if (m.amount_minor() > kMaxAmountMinor) {
    v.Add(absl::StrCat(field, ".amount_minor"), absl::StrCat("at most ", kMaxAmountMinor));
  }
  if (m.amount_minor() != 0 || !m.currency_code().empty()) {
    const std::string& code = m.currency_code();
    if (code.size() != 3 || !absl::ascii_isupper(code[0]) || !absl::ascii_isupper(code[1]) ||
        !absl::ascii_isupper(code[2])) {
      v.Add(absl::StrCat(field, ".currency_code"), "must be an ISO 4217 code such as USD");
    }
  }
  return v.status();
}

absl::Status ValidateContactFields(const v1::Contact& c, absl::string_view prefix) {
  const struct {
    const char* name;
    const std::string& value;
    size_t max;
  } fields[] = {{"first_name", c.first_name(), 200},
                {"last_name", c.last_name(), 200},
                {"company", c.company(), 200},
                {"title", c.title(), 200},
                {"phone", c.phone(), 64},
                {"industry", c.industry(), 100},
                {"region", c.region(), 100}};
  common::FieldViolations v;
  for (const auto& f : fields) {
    if (f.value.size() > f.max) {
      v.Add(absl::StrCat(prefix, f.name), absl::StrCat("longer than ", f.max, " characters"));
    }
  }
  if (c.company_size() < 0) v.Add(absl::StrCat(prefix, "company_size"), "must not be negative");
  return v.status();
}

int64_t AddMinor(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? INT64_MAX : INT64_MIN;
}

absl::Status RequireUuid(absl::string_view id, absl::string_view field) {
  bool uuid = id.size() == 36;
  for (size_t i = 0; uuid && i < id.size(); ++i) {
    const bool dash_at = i == 8 || i == 13 || i == 18 || i == 23;
    uuid = dash_at ? id[i] == '-' : absl::ascii_isxdigit(static_cast<unsigned char>(id[i]));
  }
  if (!uuid) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be a UUID (8-4-4-4-12 hexadecimal digits)"));
  }
  return absl::OkStatus();
}

}  // namespace funnel::handoff

namespace funnel::handoff {

v1::ConsentStatus MostRestrictiveConsent(v1::ConsentStatus a, v1::ConsentStatus b) {
  const auto rank = [](v1::ConsentStatus c) {
    switch (c) {
      case v1::CONSENT_STATUS_OPTED_OUT:
        return 3;
      case v1::CONSENT_STATUS_UNKNOWN:
        return 2;
      case v1::CONSENT_STATUS_OPTED_IN:
        return 1;
      default:
        return 0;
    }
  };
  return rank(a) >= rank(b) ? a : b;
}

}  // namespace funnel::handoff
