#include "handoff/contract.h"

namespace funnel::handoff {
namespace {

struct KindInfo {
  EventKind kind;
  absl::string_view name;
  absl::string_view method;
};

constexpr KindInfo kKinds[] = {
    {EventKind::kLeadHandoff, "LeadHandoff", "/funnel.handoff.v1.HandoffInboxService/SubmitLead"},
    {EventKind::kLeadErasure, "LeadErasure", "/funnel.handoff.v1.HandoffInboxService/EraseLead"},
    {EventKind::kHandoffDecision, "HandoffDecision",
     "/funnel.handoff.v1.HandoffFeedbackService/ReportDecision"},
    {EventKind::kDealOutcome, "DealOutcome",
     "/funnel.handoff.v1.HandoffFeedbackService/ReportOutcome"},
    {EventKind::kConsentChange, "ConsentChange",
     "/funnel.handoff.v1.HandoffInboxService/UpdateConsent"},
    {EventKind::kLeadMerged, "LeadMerged", "/funnel.handoff.v1.HandoffInboxService/MergeLead"},
};

const KindInfo& InfoOf(EventKind kind) { return kKinds[static_cast<int>(kind)]; }

}  // namespace

absl::string_view KindName(EventKind kind) { return InfoOf(kind).name; }

std::optional<EventKind> KindFromName(absl::string_view name) {
  for (const KindInfo& info : kKinds) {
    if (info.name == name) return info.kind;
  }
  return std::nullopt;
}

std::string MethodFor(EventKind kind) { return std::string(InfoOf(kind).method); }

}  // namespace funnel::handoff
