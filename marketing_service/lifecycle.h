#pragma once

// The rules of a lead's stage and a campaign's state, pure.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "funnel/marketing/v1/marketing_service.pb.h"

namespace funnel::marketing {

// OK when a lead in this state may be qualified (and so handed to sales);
// FAILED_PRECONDITION saying why not: opted out, erased, or not in NEW,
// NURTURING, RECYCLED or CUSTOMER (a customer qualified again is expansion
// business).
absl::Status CheckQualifiable(v1::LeadStage stage, handoff::v1::ConsentStatus consent, bool erased);

// OK when a field edit (UpdateLead) may set consent from `current` to `requested`;
// FAILED_PRECONDITION when it would lift an opt-out: consent given again is its
// own act, with its source and time (ResubscribeLead).
absl::Status CheckConsentEdit(handoff::v1::ConsentStatus current,
                              handoff::v1::ConsentStatus requested);

// FAILED_PRECONDITION (PERSON_ERASED) with `message`: what every change to an
// erased lead answers.
absl::Status LeadErased(absl::string_view message);

// The stage a lead moves to when it is touched: NEW becomes NURTURING; every other
// stage stays.
v1::LeadStage StageAfterTouch(v1::LeadStage stage);

// OK for DRAFT -> ACTIVE, ACTIVE <-> PAUSED, ACTIVE|PAUSED -> COMPLETED and for
// staying in the same state; FAILED_PRECONDITION naming both states otherwise.
absl::Status CheckCampaignTransition(v1::CampaignState from, v1::CampaignState to);

}  // namespace funnel::marketing
