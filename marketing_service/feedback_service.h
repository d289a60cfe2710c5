#pragma once

// Serves funnel.handoff.v1.HandoffFeedbackService: what sales' relay reports back.

#include "common/server/internal_guard.h"
#include "funnel/handoff/v1/handoff.grpc.pb.h"
#include "marketing_service/feedback_store.h"

namespace funnel::marketing {

class HandoffFeedbackServiceImpl final : public handoff::v1::HandoffFeedbackService::Service {
 public:
  explicit HandoffFeedbackServiceImpl(FeedbackStore* store,
                                      const common::InternalGuard* guard = common::OpenGuard())
      : store_(store), guard_(guard) {}

  grpc::Status ReportDecision(grpc::ServerContext*, const handoff::v1::HandoffDecision* request,
                              handoff::v1::ReportDecisionResponse* response) override;
  grpc::Status ReportOutcome(grpc::ServerContext*, const handoff::v1::DealOutcome* request,
                             handoff::v1::ReportOutcomeResponse* response) override;

 private:
  FeedbackStore* const store_;
  const common::InternalGuard* const guard_;
};

}  // namespace funnel::marketing
