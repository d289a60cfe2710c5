#include "sales_service/sales_service.h"

#include "common/status.h"

namespace funnel::sales {

grpc::Status SalesServiceImpl::GetRep(grpc::ServerContext*, const v1::GetRepRequest* request,
                                      v1::Rep* response) {
  if (request->rep_id() <= 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "rep_id: must be positive");
  }
  ASSIGN_OR_RETURN_GRPC(*response, reps_->FindRep(request->rep_id()));
  return grpc::Status::OK;
}

}  // namespace funnel::sales
