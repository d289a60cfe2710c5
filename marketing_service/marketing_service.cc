#include "marketing_service/marketing_service.h"

#include "common/status.h"

namespace funnel::marketing {

grpc::Status MarketingServiceImpl::GetLead(grpc::ServerContext*, const v1::GetLeadRequest* request,
                                           v1::Lead* response) {
  if (request->lead_id() <= 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "lead_id: must be positive");
  }
  ASSIGN_OR_RETURN_GRPC(*response, leads_->FindLead(request->lead_id()));
  return grpc::Status::OK;
}

}  // namespace funnel::marketing
