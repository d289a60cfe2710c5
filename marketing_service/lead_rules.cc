#include "marketing_service/lead_rules.h"

#include <algorithm>

#include "common/time_util.h"
#include "handoff/contract.h"
#include "handoff/validation.h"

namespace funnel::marketing {

std::vector<std::string> MergeCapture(v1::Lead& lead, const v1::CaptureLeadRequest& capture) {
  handoff::v1::Contact& into = *lead.mutable_contact();
  const handoff::v1::Contact& from = capture.contact();
  std::vector<std::string> filled;
  auto fill = [&](const char* name, std::string* field, const std::string& value) {
    if (field->empty() && !value.empty()) {
      *field = value;
      filled.push_back(name);
    }
  };
  fill("first_name", into.mutable_first_name(), from.first_name());
  fill("last_name", into.mutable_last_name(), from.last_name());
  fill("company", into.mutable_company(), from.company());
  fill("title", into.mutable_title(), from.title());
  fill("phone", into.mutable_phone(), from.phone());
  fill("industry", into.mutable_industry(), from.industry());
  fill("region", into.mutable_region(), from.region());
  if (into.company_size() == 0 && from.company_size() > 0) {
    into.set_company_size(from.company_size());
    filled.push_back("company_size");
  }
  if (lead.referrer_lead_id() == 0 && capture.referrer_lead_id() != 0 &&
      capture.referrer_lead_id() != lead.lead_id()) {
    lead.set_referrer_lead_id(capture.referrer_lead_id());
    filled.push_back("referrer");
  }
  if (lead.consent() == handoff::v1::CONSENT_STATUS_UNKNOWN &&
      capture.consent() != handoff::v1::CONSENT_STATUS_UNSPECIFIED &&
      capture.consent() != handoff::v1::CONSENT_STATUS_UNKNOWN) {
    lead.set_consent(capture.consent());
    filled.push_back("consent");
  }
  return filled;
}

std::vector<std::string> AbsorbDuplicates(v1::Lead& survivor,
                                          const std::vector<v1::Lead>& duplicates) {
  std::vector<std::string> filled;
  const v1::Lead* furthest = &survivor;
  for (const v1::Lead& duplicate : duplicates) {
    v1::CaptureLeadRequest as_capture;
    *as_capture.mutable_contact() = duplicate.contact();
    as_capture.set_referrer_lead_id(duplicate.referrer_lead_id());
    for (std::string& name : MergeCapture(survivor, as_capture)) {
      if (std::find(filled.begin(), filled.end(), name) == filled.end()) {
        filled.push_back(std::move(name));
      }
    }
    if (LifecycleRank(duplicate.stage()) > LifecycleRank(furthest->stage())) furthest = &duplicate;
    if (survivor.first_touch_campaign_id() == 0) {
      survivor.set_first_touch_campaign_id(duplicate.first_touch_campaign_id());
    }
    if (duplicate.has_last_touch_time() &&
        (!survivor.has_last_touch_time() ||
         common::FromProtoTime(duplicate.last_touch_time()) >
             common::FromProtoTime(survivor.last_touch_time()))) {
      *survivor.mutable_last_touch_time() = duplicate.last_touch_time();
      survivor.set_last_touch_campaign_id(duplicate.last_touch_campaign_id());
    }
  }
  if (furthest != &survivor) {
    survivor.set_stage(furthest->stage());
    survivor.set_handoff_id(furthest->handoff_id());
    survivor.set_qualification_note(furthest->qualification_note());
    survivor.set_recycle_reason(furthest->recycle_reason());
    survivor.set_loss_reason(furthest->loss_reason());
    filled.push_back("stage");
  }
  return filled;
}

int LifecycleRank(v1::LeadStage stage) {
  switch (stage) {
    case v1::LEAD_STAGE_CUSTOMER:
      return 7;
    case v1::LEAD_STAGE_SALES_ACCEPTED:
      return 6;
    case v1::LEAD_STAGE_HANDED_OFF:
      return 5;
    case v1::LEAD_STAGE_MARKETING_QUALIFIED:
      return 4;
    case v1::LEAD_STAGE_RECYCLED:
      return 3;
    case v1::LEAD_STAGE_NURTURING:
      return 2;
    case v1::LEAD_STAGE_NEW:
      return 1;
    default:
      return 0;
  }
}

handoff::v1::ConsentStatus MergedConsent(const v1::Lead& survivor,
                                         const std::vector<v1::Lead>& duplicates) {
  handoff::v1::ConsentStatus consent = survivor.consent();
  for (const v1::Lead& duplicate : duplicates) {
    consent = handoff::MostRestrictiveConsent(consent, duplicate.consent());
  }
  return consent;
}

void MarkQualified(v1::Lead& lead, const std::string& handoff_id, const std::string& note) {
  lead.set_stage(v1::LEAD_STAGE_MARKETING_QUALIFIED);
  lead.set_qualification_note(note);
  lead.set_handoff_id(handoff_id);
  lead.set_recycle_reason(handoff::v1::REJECTION_REASON_UNSPECIFIED);
}

handoff::v1::LeadHandoff BuildLeadHandoff(const v1::Lead& lead, const QualificationFacts& facts) {
  handoff::v1::LeadHandoff event;
  event.set_handoff_id(facts.handoff_id);
  event.set_lead_id(lead.lead_id());
  *event.mutable_contact() = lead.contact();
  event.set_score(lead.score());
  event.set_temperature(lead.temperature());
  handoff::v1::Qualification* q = event.mutable_qualification();
  q->set_method(facts.method);
  q->set_note(facts.note);
  *q->mutable_qualify_time() = common::ToProtoTime(facts.qualify_time);
  q->set_qualified_by(facts.qualified_by);
  event.set_first_touch_campaign_id(lead.first_touch_campaign_id());
  event.set_last_touch_campaign_id(lead.last_touch_campaign_id());
  event.set_business_type(handoff::v1::BUSINESS_TYPE_NEW);
  event.set_referrer_lead_id(lead.referrer_lead_id());
  event.set_referrer_contact_id(facts.referrer_contact_id);
  if (facts.expansion) {
    event.set_business_type(handoff::v1::BUSINESS_TYPE_EXPANSION);
    event.set_account_id(lead.sales_account_id());
    event.set_contact_id(lead.sales_contact_id());
    event.set_first_touch_campaign_id(facts.first_touch_campaign_id);
    event.set_last_touch_campaign_id(facts.last_touch_campaign_id);
  }
  for (const handoff::v1::TouchpointCount& count : facts.touchpoint_counts) {
    *event.mutable_touchpoints()->add_counts() = count;
  }
  if (facts.last_touch_time) {
    *event.mutable_touchpoints()->mutable_last_touch_time() =
        common::ToProtoTime(*facts.last_touch_time);
  }
  event.set_consent(lead.consent());
  event.set_contract_version(handoff::kContractVersion);
  return event;
}

double RecycledEngagement(double warm_threshold, double fit) {
  return std::max(0.0, warm_threshold - fit);
}

void ErasePersonalData(v1::Lead& lead) {
  handoff::v1::Contact* c = lead.mutable_contact();
  c->clear_email();
  c->clear_first_name();
  c->clear_last_name();
  c->clear_title();
  c->clear_phone();
  c->clear_company();
  lead.set_erased(true);
  lead.set_stage(v1::LEAD_STAGE_DISQUALIFIED);
  lead.clear_qualification_note();
}

bool SupersedesOutcome(std::optional<int64_t> held_revision, int64_t incoming_revision) {
  if (!held_revision) return true;
  if (incoming_revision == 0) return *held_revision == 0;
  return incoming_revision > *held_revision;
}

bool DecisionMovesLead(const v1::Lead& lead) {
  return !lead.erased() && lead.stage() != v1::LEAD_STAGE_DISQUALIFIED;
}

v1::LeadStage ApplyOutcomeToLead(v1::Lead& lead, const handoff::v1::DealOutcome& outcome,
                                 bool expansion) {
  const v1::LeadStage before = lead.stage();
  if (before == v1::LEAD_STAGE_DISQUALIFIED) return before;
  if (outcome.outcome() == handoff::v1::OUTCOME_WON ||
      (expansion && outcome.outcome() == handoff::v1::OUTCOME_LOST)) {
    lead.set_stage(v1::LEAD_STAGE_CUSTOMER);
    lead.clear_loss_reason();
    if (outcome.outcome() == handoff::v1::OUTCOME_LOST) lead.set_loss_reason(outcome.loss_reason());
  } else {
    lead.set_stage(v1::LEAD_STAGE_SALES_ACCEPTED);
    if (outcome.outcome() == handoff::v1::OUTCOME_LOST) {
      lead.set_loss_reason(outcome.loss_reason());
    } else {
      lead.clear_loss_reason();
    }
  }
  return before;
}

}  // namespace funnel::marketing
