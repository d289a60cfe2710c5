#pragma once

// What happens to a lead when it is captured again, qualified, recycled or erased:
// pure rules over the lead's proto, unit-tested (tests/marketing/lead_rules_test.cc).
// Stores load the lead, call one of these and save what it decided.

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "funnel/handoff/v1/handoff.pb.h"
#include "funnel/marketing/v1/marketing_service.pb.h"

namespace funnel::marketing {

// A capture of a known address: fills only the lead's empty contact fields and
// referrer (never overwrites one) and takes a consent only over UNKNOWN (never
// lifts an opt-out).
// Returns the names of the fields it filled, in a fixed order.
std::vector<std::string> MergeCapture(v1::Lead& lead, const v1::CaptureLeadRequest& capture);

// Merging leads of one person into `survivor` (MergeLeads): the contact's empty
// fields are filled from each duplicate in turn, as a capture fills them; the
// lifecycle (stage, handoff, qualification note, recycle and loss reasons) is that
// of the lead furthest along (LifecycleRank, the survivor on a tie); the first
// touch stays the survivor's unless it has none; the last touch is the latest of
// all. Consent (MergedConsent) and engagement (scoring.h's CombineEngagement) are
// the caller's: a consent change is an event for sales. Returns the names of the
// fields filled, the lifecycle's as "stage".
std::vector<std::string> AbsorbDuplicates(v1::Lead& survivor,
                                          const std::vector<v1::Lead>& duplicates);

// How far along a lead's lifecycle is, for merging: CUSTOMER over SALES_ACCEPTED
// over HANDED_OFF over MARKETING_QUALIFIED over RECYCLED over NURTURING over NEW;
// DISQUALIFIED lowest (the person being worked elsewhere says they are a prospect).
int LifecycleRank(v1::LeadStage stage);

// The consent of leads merged into one: the most restrictive (an opt-out anywhere).
handoff::v1::ConsentStatus MergedConsent(const v1::Lead& survivor,
                                         const std::vector<v1::Lead>& duplicates);

// Qualification's effect on the lead (CheckQualifiable has said yes): stage
// MARKETING_QUALIFIED, the note, the new handoff's id, no recycle reason.
void MarkQualified(v1::Lead& lead, const std::string& handoff_id, const std::string& note);

// What sales receives for a qualified lead (its contract snapshot).
struct QualificationFacts {
  std::string handoff_id;
  handoff::v1::QualificationMethod method;
  std::string note;
  std::string qualified_by;
  absl::Time qualify_time;
  std::vector<handoff::v1::TouchpointCount> touchpoint_counts;
  std::optional<absl::Time> last_touch_time;
  // Expansion: a customer qualified again, on the account sales gave back; the
  // touch campaigns are those since the last win.
  bool expansion = false;
  int64_t first_touch_campaign_id = 0;
  int64_t last_touch_campaign_id = 0;
  // The referrer's contact in sales, when sales holds one.
  int64_t referrer_contact_id = 0;
};
handoff::v1::LeadHandoff BuildLeadHandoff(const v1::Lead& lead, const QualificationFacts& facts);

// A rejected handoff sends the lead back to nurturing at the warm threshold: warm,
// but a new run of engagement is needed before it is handed over again. The
// engagement that gives a lead with `fit` points exactly the threshold (never
// negative).
double RecycledEngagement(double warm_threshold, double fit);

// Erasure: everything that identifies the person goes (email, names, title, phone,
// company, the qualification note); anonymous facts (firmographics, scores) stay
// for counts. The lead is marked erased and DISQUALIFIED.
void ErasePersonalData(v1::Lead& lead);

// Whether a revision of a deal's outcome replaces the one marketing holds (none:
// nullopt). Higher revisions win whatever order they arrive in; revision 0 (senders
// before contract 1.1) replaces only another 0, the latest arrival.
bool SupersedesOutcome(std::optional<int64_t> held_revision, int64_t incoming_revision);

// Whether sales' decision on a handoff moves its lead (to SALES_ACCEPTED or
// RECYCLED): not once marketing has disqualified or erased it, whichever came first.
bool DecisionMovesLead(const v1::Lead& lead);

// Applies a deal's latest outcome to its lead: WON makes it a customer; LOST (with
// its reason) and REOPENED put it back with sales, accepted, except that an
// expansion deal lost leaves the customer a customer. An erased (disqualified)
// lead keeps its stage. Answers the lead's stage before.
v1::LeadStage ApplyOutcomeToLead(v1::Lead& lead, const handoff::v1::DealOutcome& outcome,
                                 bool expansion = false);

}  // namespace funnel::marketing
