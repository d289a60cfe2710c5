#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace funnel::handoff {

// Trims and lower-cases an email address and checks its shape (one '@', a local
// part, a domain with a dot, no spaces, at most 320 characters). Two spellings of
// the same address normalise to the same string, which is what makes leads unique.
// INVALID_ARGUMENT naming `field` when the address is not valid.
absl::StatusOr<std::string> NormalizeEmail(absl::string_view email,
                                           absl::string_view field = "email");

}  // namespace funnel::handoff
