#pragma once

// gRPC adapter for funnel.sales.v1.SalesService: validates requests, calls the
// stores and domain code, maps results. Methods not yet built answer
// UNIMPLEMENTED (the generated default).

#include "funnel/sales/v1/sales_service.grpc.pb.h"
#include "sales_service/rep_store.h"

namespace funnel::sales {

class SalesServiceImpl final : public v1::SalesService::Service {
 public:
  explicit SalesServiceImpl(RepStore* reps) : reps_(reps) {}

  grpc::Status GetRep(grpc::ServerContext* context, const v1::GetRepRequest* request,
                      v1::Rep* response) override;

 private:
  RepStore* const reps_;
};

}  // namespace funnel::sales
