#include "marketing_service/feedback_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "common/validation.h"
#include "handoff/validation.h"

namespace funnel::marketing {

grpc::Status HandoffFeedbackServiceImpl::ReportDecision(grpc::ServerContext* ctx,
                                                        const handoff::v1::HandoffDecision* req,
                                                        handoff::v1::ReportDecisionResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(handoff::RequireUuid(req->event_id(), "event_id"));
  RETURN_IF_ERROR_GRPC(handoff::RequireUuid(req->handoff_id(), "handoff_id"));
  RETURN_IF_ERROR_GRPC(
      common::RequireEnum(req->decision(), handoff::v1::Decision_IsValid, "decision", false));
  if (req->decision() == handoff::v1::DECISION_REJECTED) {
    RETURN_IF_ERROR_GRPC(common::RequireEnum(
        req->rejection_reason(), handoff::v1::RejectionReason_IsValid, "rejection_reason", false));
  }
  ASSIGN_OR_RETURN_GRPC(*resp, call->feedback->ApplyDecision(*req, absl::Now()));
  return grpc::Status::OK;
}

grpc::Status HandoffFeedbackServiceImpl::ReportOutcome(grpc::ServerContext* ctx,
                                                       const handoff::v1::DealOutcome* req,
                                                       handoff::v1::ReportOutcomeResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(handoff::RequireUuid(req->event_id(), "event_id"));
  RETURN_IF_ERROR_GRPC(handoff::RequireUuid(req->handoff_id(), "handoff_id"));
  RETURN_IF_ERROR_GRPC(
      common::RequireEnum(req->outcome(), handoff::v1::Outcome_IsValid, "outcome", false));
  if (req->outcome() == handoff::v1::OUTCOME_WON) {
    RETURN_IF_ERROR_GRPC(handoff::ValidateMoney(req->amount(), "amount"));
  }
  if (req->revision() < 0) {
    return common::ToGrpcStatus(absl::InvalidArgumentError("revision: must not be negative"));
  }
  ASSIGN_OR_RETURN_GRPC(*resp, call->feedback->ApplyOutcome(*req, absl::Now()));
  return grpc::Status::OK;
}

}  // namespace funnel::marketing
