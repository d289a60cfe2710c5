#pragma once

// The steps a lead's transaction is made of, shared by capture (lead_capture.cc)
// and the changes to one lead (lead_changes.cc). Each runs inside the caller's
// transaction on a lead it has locked, and calls the pure rules for its decisions.

#include <cppconn/connection.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "funnel/handoff/v1/handoff.pb.h"
#include "funnel/marketing/v1/marketing_service.pb.h"
#include "marketing_service/leads/lead_rows.h"
#include "marketing_service/leads/lead_writes.h"

namespace funnel::marketing {

// NOT_FOUND "campaign_id: ..." for a campaign that does not exist; 0 is no campaign.
absl::Status CheckCampaign(sql::Connection& conn, int64_t campaign_id);

// Moves the lead to MARKETING_QUALIFIED, records the handoff, and queues the
// LeadHandoff for sales. FAILED_PRECONDITION when the lead may not be qualified
// (lifecycle.h's CheckQualifiable).
absl::Status QualifyLocked(sql::Connection& conn, LeadRow& row,
                           handoff::v1::QualificationMethod method, const std::string& note,
                           const std::string& actor, absl::Time now);

// After a score change: a lead that turned hot is qualified by score, if it may be
// (a lead that may not stays as it is: OK).
absl::Status QualifyIfHot(sql::Connection& conn, LeadRow& row, handoff::v1::Temperature before,
                          absl::Time now);

// Adds a touchpoint to a locked lead and re-scores it (no qualification). The
// touchpoint's id is 0 when `writes` defers.
v1::Touchpoint TouchLocked(LeadWrites& writes, const v1::ScoringPolicy& policy, LeadRow& row,
                           int64_t campaign_id, handoff::v1::TouchpointType type, absl::Time when,
                           const std::string& actor, absl::Time now, bool moves_stage);

}  // namespace funnel::marketing
