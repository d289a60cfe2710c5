#pragma once

// A lead's consent changing, in the caller's transaction on a locked lead: what an
// opt-out withdraws, and the ConsentChange that tells sales (contract 1.1).

#include <cppconn/connection.h>

#include <string>

#include "absl/time/time.h"
#include "marketing_service/leads/lead_rows.h"

namespace funnel::marketing {

// Sets the lead's consent (the caller saves the row and records its own history
// entry). An opt-out withdraws a handoff not yet delivered (the lead goes back to
// NURTURING, recorded); every change is queued for sales as a ConsentChange when
// sales holds, or is about to receive, a handoff of the lead. `source` names what
// changed it; `change_time` is when the person gave or withdrew consent.
void ChangeConsentLocked(sql::Connection& conn, LeadRow& row, handoff::v1::ConsentStatus consent,
                         const std::string& source, const std::string& actor,
                         absl::Time change_time, absl::Time now);

}  // namespace funnel::marketing
