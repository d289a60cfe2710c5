#pragma once

// The lead-handoff contract (protos/funnel/handoff/v1) as code: the version this
// build speaks and the kinds of event that cross it, each carried by one method.
// Both departments link this library (funnel_handoff); it links neither.

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace funnel::handoff {

// Minor version of funnel.handoff.v1 this build speaks.
// 1.1: DealOutcome revisions and OUTCOME_REOPENED; ConsentChange (UpdateConsent).
// 1.2: LeadMerged (MergeLead).
inline constexpr char kContractVersion[] = "1.3";

// What an outbox event is: the contract message its payload holds.
enum class EventKind {
  kLeadHandoff,      // marketing -> sales: a qualified lead
  kLeadErasure,      // marketing -> sales: a person's data erased
  kHandoffDecision,  // sales -> marketing: accepted or rejected
  kDealOutcome,      // sales -> marketing: won, lost or reopened
  kConsentChange,    // marketing -> sales: a handed-over person's consent changed
  kLeadMerged,       // marketing -> sales: leads of one person merged
};

// The message name stored with an event ("LeadHandoff", ...).
absl::string_view KindName(EventKind kind);
// The kind a stored name stands for; nullopt for a name this build does not know.
std::optional<EventKind> KindFromName(absl::string_view name);
// The contract method that carries the kind, e.g. kLeadHandoff ->
// "/funnel.handoff.v1.HandoffInboxService/SubmitLead".
std::string MethodFor(EventKind kind);

}  // namespace funnel::handoff
