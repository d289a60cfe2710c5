// Email normalisation (handoff/email.h), what makes leads unique: a normalised
// address normalises to itself, and a refusal names its field.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz/fail.h"
#include "handoff/email.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto normalized = funnel::handoff::NormalizeEmail(input, "contact.email");
  if (!normalized.ok()) {
    if (normalized.status().code() != absl::StatusCode::kInvalidArgument ||
        normalized.status().message().rfind("contact.email", 0) != 0) {
      funnel::fuzz::Broken("a refusal is INVALID_ARGUMENT naming the field", input,
                           normalized.status().ToString());
    }
    return 0;
  }
  const auto again = funnel::handoff::NormalizeEmail(*normalized, "contact.email");
  if (!again.ok() || *again != *normalized) {
    funnel::fuzz::Broken("normalising a normalised address changes nothing", input,
                         again.ok() ? *normalized + " -> " + *again : again.status().ToString());
  }
  return 0;
}
