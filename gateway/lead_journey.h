#pragma once

// GetLeadJourney's assembly: one lead's timeline from both services. Blocking (it
// makes several calls in sequence); run it on a worker, never on a reactor thread.

#include "absl/status/statusor.h"
#include "funnel/gateway/v1/funnel_service.pb.h"
#include "funnel/marketing/v1/marketing_service.grpc.pb.h"
#include "funnel/sales/v1/sales_service.grpc.pb.h"
#include "gateway/gatekeeper.h"

namespace funnel::gateway {

// What a role may see of a journey: sales roles see a handed-off lead's marketing
// history without campaigns or scores; marketing sees sales' steps without activity
// notes; revenue ops and admins see everything.
struct JourneyView {
  bool campaigns = true;
  bool scores = true;
  bool activity_notes = true;
  bool requires_handoff = false;  // sales roles see only leads marketing handed over
};
JourneyView ViewFor(const std::string& role);

// `backend_context` makes each backend call's context (deadline, principal,
// internal credential). NOT_FOUND for an unknown lead; PERMISSION_DENIED for a sales
// role and a lead never handed over.
absl::StatusOr<v1::LeadJourney> AssembleJourney(
    const v1::GetLeadJourneyRequest& request, const JourneyView& view,
    const std::function<std::unique_ptr<grpc::ClientContext>()>& backend_context,
    marketing::v1::MarketingService::StubInterface& marketing,
    sales::v1::SalesService::StubInterface& sales);

}  // namespace funnel::gateway
