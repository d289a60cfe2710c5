#pragma once

// Checks of the contract's shared types, used by both departments' handlers. Each
// returns INVALID_ARGUMENT naming every offending field (common/field_violations.h).

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "funnel/handoff/v1/types.pb.h"

namespace funnel::handoff {

// The largest amount Funnel stores: 10^15 minor units (ten trillion in a currency of
// two decimals). Sums of many such amounts stay far from int64's limit, and
// AddMinor saturates where one could still reach it.
inline constexpr int64_t kMaxAmountMinor = 1'000'000'000'000'000;

// A non-negative amount of at most kMaxAmountMinor with an ISO 4217 code (upper
// case, three letters) whenever the amount is not zero.
absl::Status ValidateMoney(const v1::Money& money, absl::string_view field);

// Lengths of the free-text contact fields and a non-negative company size. The
// email is checked by NormalizeEmail (email.h).
absl::Status ValidateContactFields(const v1::Contact& contact, absl::string_view prefix);

// a + b in minor units, saturating at int64's limits instead of overflowing.
int64_t AddMinor(int64_t a, int64_t b);

// An id the contract hands out (handoff, event): a UUID, 8-4-4-4-12 hex digits.
absl::Status RequireUuid(absl::string_view id, absl::string_view field);

}  // namespace funnel::handoff

namespace funnel::handoff {

// The more restrictive of two consents, for merging two records of one person: an
// opt-out anywhere wins, then not knowing, then an opt-in; UNSPECIFIED (nothing
// recorded) yields to any of them.
v1::ConsentStatus MostRestrictiveConsent(v1::ConsentStatus a, v1::ConsentStatus b);

}  // namespace funnel::handoff
