#pragma once

// funnel.gateway.v1.FunnelService: the views across both departments, composed by
// the gateway from each service's own figures. Callbacks only: the two backend calls
// run in parallel and no thread waits for them.

#include <grpcpp/channel.h>

#include <memory>

#include "common/work_queue.h"
#include "funnel/gateway/v1/funnel_service.grpc.pb.h"
#include "funnel/marketing/v1/marketing_service.grpc.pb.h"
#include "funnel/sales/v1/sales_service.grpc.pb.h"
#include "gateway/gatekeeper.h"

namespace funnel::gateway {

// Combines both sides into the report (pure; conversions and medians between steps).
v1::FunnelReport ComposeFunnelReport(const marketing::v1::FunnelStats& marketing,
                                     const sales::v1::FunnelStats& sales);

class FunnelServiceImpl final : public v1::FunnelService::CallbackService {
 public:
  FunnelServiceImpl(const Gatekeeper* gatekeeper, std::shared_ptr<grpc::Channel> marketing,
                    std::shared_ptr<grpc::Channel> sales);

  grpc::ServerUnaryReactor* GetFunnelReport(grpc::CallbackServerContext* context,
                                            const v1::GetFunnelReportRequest* request,
                                            v1::FunnelReport* response) override;
  grpc::ServerUnaryReactor* GetLeadJourney(grpc::CallbackServerContext* context,
                                           const v1::GetLeadJourneyRequest* request,
                                           v1::LeadJourney* response) override;

 private:
  const Gatekeeper* const gatekeeper_;
  std::unique_ptr<marketing::v1::MarketingService::Stub> marketing_;
  std::unique_ptr<sales::v1::SalesService::Stub> sales_;
  // GetLeadJourney makes blocking calls in sequence: on these workers, not on
  // reactor threads.
  common::WorkQueue workers_{4};
};

}  // namespace funnel::gateway
