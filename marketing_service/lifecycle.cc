#include "marketing_service/lifecycle.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace funnel::marketing {

absl::Status LeadErased(absl::string_view message) {
  return common::WithReason(absl::FailedPreconditionError(message), errors::v1::PERSON_ERASED);
}

absl::Status CheckQualifiable(v1::LeadStage stage, handoff::v1::ConsentStatus consent,
                              bool erased) {
  if (erased) return LeadErased("lead: erased");
  if (consent == handoff::v1::CONSENT_STATUS_OPTED_OUT) {
    return common::WithReason(
        absl::FailedPreconditionError("lead: opted out; it is never handed off"),
        errors::v1::OPTED_OUT);
  }
  switch (stage) {
    case v1::LEAD_STAGE_NEW:
    case v1::LEAD_STAGE_NURTURING:
    case v1::LEAD_STAGE_RECYCLED:
    case v1::LEAD_STAGE_CUSTOMER:  // expansion business
      return absl::OkStatus();
    default:
      return common::WithReason(
          absl::FailedPreconditionError(
              absl::StrCat("lead: stage is ", v1::LeadStage_Name(stage),
                           "; only NEW, NURTURING, RECYCLED or CUSTOMER leads can be qualified")),
          errors::v1::INVALID_TRANSITION);
  }
}

absl::Status CheckConsentEdit(handoff::v1::ConsentStatus current,
                              handoff::v1::ConsentStatus requested) {
  if (current == handoff::v1::CONSENT_STATUS_OPTED_OUT && requested != current) {
    return common::WithReason(
        absl::FailedPreconditionError(
            "consent: the person opted out; only ResubscribeLead, with the consent's source, "
            "lifts an opt-out"),
        errors::v1::OPTED_OUT);
  }
  return absl::OkStatus();
}

v1::LeadStage StageAfterTouch(v1::LeadStage stage) {
  return stage == v1::LEAD_STAGE_NEW ? v1::LEAD_STAGE_NURTURING : stage;
}

absl::Status CheckCampaignTransition(v1::CampaignState from, v1::CampaignState to) {
  using S = v1::CampaignState;
  const bool ok = from == to ||
                  (from == S::CAMPAIGN_STATE_DRAFT && to == S::CAMPAIGN_STATE_ACTIVE) ||
                  (from == S::CAMPAIGN_STATE_ACTIVE && to == S::CAMPAIGN_STATE_PAUSED) ||
                  (from == S::CAMPAIGN_STATE_PAUSED && to == S::CAMPAIGN_STATE_ACTIVE) ||
                  ((from == S::CAMPAIGN_STATE_ACTIVE || from == S::CAMPAIGN_STATE_PAUSED) &&
                   to == S::CAMPAIGN_STATE_COMPLETED);
  if (ok) return absl::OkStatus();
  return common::WithReason(absl::FailedPreconditionError(absl::StrCat(
                                "campaign.state: cannot go from ", v1::CampaignState_Name(from),
                                " to ", v1::CampaignState_Name(to))),
                            errors::v1::INVALID_TRANSITION);
}

}  // namespace funnel::marketing
