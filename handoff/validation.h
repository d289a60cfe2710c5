#pragma once

// Checks of the contract's shared types, used by both departments' handlers. Each
// returns INVALID_ARGUMENT naming the offending field.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "funnel/handoff/v1/types.pb.h"

namespace funnel::handoff {

// A non-negative amount with an ISO 4217 code (upper case, three letters) whenever
// the amount is not zero.
absl::Status ValidateMoney(const v1::Money& money, absl::string_view field);

// Lengths of the free-text contact fields and a non-negative company size. The
// email is checked by NormalizeEmail (email.h).
absl::Status ValidateContactFields(const v1::Contact& contact, absl::string_view prefix);

// An id the contract hands out (handoff, event): a UUID's 36 characters.
absl::Status RequireUuid(absl::string_view id, absl::string_view field);

}  // namespace funnel::handoff
