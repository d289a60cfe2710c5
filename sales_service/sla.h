#pragma once

// The handoff SLA as pure rules: what stops the clock, what counts as a breach, and
// which activity times may touch it. The inbox and report stores load the times and
// ask these functions; nothing here reads a database.

#include <optional>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace funnel::sales {

// How far ahead of the server's clock an activity may be dated: a client's clock
// may run a little fast, but nothing is logged as having happened later.
inline constexpr absl::Duration kMaxActivityClockSkew = absl::Minutes(5);

struct SlaFacts {
  absl::Time deadline;
  std::optional<absl::Time> first_response;  // the first activity logged on it
  std::optional<absl::Time> decided;         // accepted or rejected
  bool withdrawn = false;                    // marketing withdrew it: no clock runs
};

struct SlaStatus {
  // The first response: the earlier of the first activity and the decision.
  std::optional<absl::Time> responded;
  // No response yet and the deadline has passed: it is on the overdue list.
  bool overdue = false;
  // Responded after the deadline, or not yet and the deadline has passed.
  bool breached = false;
};

// A first response (an activity or a decision) stops the clock: before the
// deadline the SLA is met, after it the breach is recorded; either way the handoff
// leaves the overdue list. A withdrawn handoff unanswered is neither overdue nor
// breached: there was nothing left to answer.
SlaStatus EvaluateSla(const SlaFacts& facts, absl::Time now);

// An activity on a handoff may not be dated before sales received it (it would
// stop the clock before it started) nor beyond the clock skew into the future.
// INVALID_ARGUMENT naming `field` otherwise.
absl::Status CheckActivityTime(absl::Time occur, std::optional<absl::Time> handoff_received,
                               absl::Time now, const char* field);

}  // namespace funnel::sales
