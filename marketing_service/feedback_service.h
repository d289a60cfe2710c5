#pragma once

// Serves funnel.handoff.v1.HandoffFeedbackService: what sales' relay reports back.

#include "common/server/gate.h"
#include "common/server/internal_guard.h"
#include "funnel/handoff/v1/handoff.grpc.pb.h"
#include "marketing_service/feedback_store.h"

namespace funnel::marketing {

class HandoffFeedbackServiceImpl final : public handoff::v1::HandoffFeedbackService::Service {
 public:
  explicit HandoffFeedbackServiceImpl(FeedbackStore* store,
                                      const common::InternalGuard* guard = common::OpenGuard())
      : gate_({store}, guard) {}

  grpc::Status ReportDecision(grpc::ServerContext*, const handoff::v1::HandoffDecision* request,
                              handoff::v1::ReportDecisionResponse* response) override;
  grpc::Status ReportOutcome(grpc::ServerContext*, const handoff::v1::DealOutcome* request,
                             handoff::v1::ReportOutcomeResponse* response) override;

 private:
  struct Stores {
    FeedbackStore* feedback;
  };
  using Call = common::Admitted<Stores>;

  // The store, reached only through the gate's admission of a call.
  const common::Gate<Stores> gate_;
};

}  // namespace funnel::marketing
