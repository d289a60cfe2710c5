#pragma once

// gRPC adapter for funnel.marketing.v1.MarketingService: validates requests, calls
// the stores and domain code, maps results. Methods not yet built answer
// UNIMPLEMENTED (the generated default).

#include "funnel/marketing/v1/marketing_service.grpc.pb.h"
#include "marketing_service/lead_store.h"

namespace funnel::marketing {

class MarketingServiceImpl final : public v1::MarketingService::Service {
 public:
  explicit MarketingServiceImpl(LeadStore* leads) : leads_(leads) {}

  grpc::Status GetLead(grpc::ServerContext* context, const v1::GetLeadRequest* request,
                       v1::Lead* response) override;

 private:
  LeadStore* const leads_;
};

}  // namespace funnel::marketing
