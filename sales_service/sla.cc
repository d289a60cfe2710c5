#include "sales_service/sla.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace funnel::sales {

SlaStatus EvaluateSla(const SlaFacts& facts, absl::Time now) {
  SlaStatus status;
  status.responded = facts.first_response;
  if (facts.decided && (!status.responded || *facts.decided < *status.responded)) {
    status.responded = facts.decided;
  }
  if (status.responded) {
    status.breached = *status.responded > facts.deadline;
  } else if (!facts.withdrawn) {
    status.overdue = now > facts.deadline;
    status.breached = status.overdue;
  }
  return status;
}

absl::Status CheckActivityTime(absl::Time occur, std::optional<absl::Time> handoff_received,
                               absl::Time now, const char* field) {
  if (occur > now + kMaxActivityClockSkew) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", absl::FormatTime(occur),
                                                   " is in the future (now is ",
                                                   absl::FormatTime(now), ")"));
  }
  if (handoff_received && occur < *handoff_received) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", absl::FormatTime(occur),
                                                   " is before the handoff arrived at ",
                                                   absl::FormatTime(*handoff_received)));
  }
  return absl::OkStatus();
}

}  // namespace funnel::sales
