#pragma once

// SQL for who works a handoff: its current assignment (rep, reason, rule,
// escalation clock) and the history of every assignment, each with its reason.

#include <cppconn/connection.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "funnel/sales/v1/sales_service.pb.h"
#include "sales_service/rep_performance.h"

namespace funnel::sales {

struct Assignment {
  int64_t rep_id = 0;  // 0: the default queue
  v1::AssignmentReason reason = v1::ASSIGNMENT_REASON_UNSPECIFIED;
  int64_t rule_id = 0;
  std::string actor;
  std::string note;
  // When the new rep's time to answer runs out and escalation moves it on; none
  // when nothing escalates it.
  std::optional<absl::Time> escalate_at;
};

// Gives `handoff` (as read before the change) its new assignment, appends it to
// the history and, when the rep changed, puts handoff.assigned (or
// handoff.escalated) on the change feed. In the caller's transaction.
void RecordAssignment(sql::Connection& conn, const v1::Handoff& handoff, const Assignment& next,
                      absl::Time now);

// Fills each handoff's assignments, oldest first, in one query.
void LoadAssignments(sql::Connection& conn, const std::vector<v1::Handoff*>& handoffs);

// The assignments to `rep_id` made in [from, to).
std::vector<AssignmentSpan> ReadAssignmentSpans(sql::Connection& conn, int64_t rep_id,
                                                absl::Time from, absl::Time to);

}  // namespace funnel::sales
