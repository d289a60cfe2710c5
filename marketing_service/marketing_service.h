#pragma once

// gRPC adapter for funnel.marketing.v1.MarketingService: each handler validates the
// request (INVALID_ARGUMENT naming the field), calls a store, and maps the result
// through common::ToGrpcStatus. Rules live in scoring.h and lifecycle.h; SQL in the
// *_store files.

#include "common/feed/feed_hub.h"
#include "common/server/gate.h"
#include "common/server/internal_guard.h"
#include "common/work_queue.h"
#include "funnel/marketing/v1/marketing_service.grpc.pb.h"
#include "marketing_service/campaign_reports.h"
#include "marketing_service/campaign_store.h"
#include "marketing_service/leads/lead_store.h"
#include "marketing_service/scoring_store.h"
#include "marketing_service/segment_store.h"

namespace funnel::marketing {

// ImportLeads is a callback method (import_stream.h): a client stream must not hold
// a thread while its client is slow; so is WatchEvents (common/feed/feed_hub.h). Everything else
// blocks on the database.
class MarketingServiceImpl final
    : public v1::MarketingService::WithCallbackMethod_WatchEvents<
          v1::MarketingService::WithRawCallbackMethod_ImportLeads<v1::MarketingService::Service>> {
 public:
  // The stores the handlers call (through the gate); they outlive the service.
  struct Stores {
    LeadStore* leads;
    CampaignStore* campaigns;
    SegmentStore* segments;
    CampaignReports* reports;
    ScoringStore* scoring;
    feed::FeedHub* feed = nullptr;  // none: WatchEvents is UNIMPLEMENTED
  };

  explicit MarketingServiceImpl(const Stores& stores,
                                const common::InternalGuard* guard = common::OpenGuard())
      : gate_(stores, guard) {}

  grpc::Status CreateSegment(grpc::ServerContext*, const v1::CreateSegmentRequest*,
                             v1::Segment*) override;
  grpc::Status GetSegment(grpc::ServerContext*, const v1::GetSegmentRequest*,
                          v1::Segment*) override;
  grpc::Status ListSegments(grpc::ServerContext*, const v1::ListSegmentsRequest*,
                            v1::ListSegmentsResponse*) override;
  grpc::Status ListSegmentLeads(grpc::ServerContext*, const v1::ListSegmentLeadsRequest*,
                                v1::ListLeadsResponse*) override;

  grpc::Status CreateCampaign(grpc::ServerContext*, const v1::CreateCampaignRequest*,
                              v1::Campaign*) override;
  grpc::Status GetCampaign(grpc::ServerContext*, const v1::GetCampaignRequest*,
                           v1::Campaign*) override;
  grpc::Status ListCampaigns(grpc::ServerContext*, const v1::ListCampaignsRequest*,
                             v1::ListCampaignsResponse*) override;
  grpc::Status UpdateCampaign(grpc::ServerContext*, const v1::UpdateCampaignRequest*,
                              v1::Campaign*) override;

  grpc::Status CaptureLead(grpc::ServerContext*, const v1::CaptureLeadRequest*,
                           v1::CaptureLeadResponse*) override;
  grpc::Status GetLead(grpc::ServerContext*, const v1::GetLeadRequest*, v1::Lead*) override;
  grpc::Status ListLeads(grpc::ServerContext*, const v1::ListLeadsRequest*,
                         v1::ListLeadsResponse*) override;
  grpc::Status UpdateLead(grpc::ServerContext*, const v1::UpdateLeadRequest*, v1::Lead*) override;
  grpc::Status QualifyLead(grpc::ServerContext*, const v1::QualifyLeadRequest*, v1::Lead*) override;
  grpc::Status Unsubscribe(grpc::ServerContext*, const v1::UnsubscribeRequest*,
                           v1::UnsubscribeResponse*) override;
  grpc::Status ResubscribeLead(grpc::ServerContext*, const v1::ResubscribeLeadRequest*,
                               v1::Lead*) override;
  grpc::Status EraseLead(grpc::ServerContext*, const v1::EraseLeadRequest*,
                         v1::EraseLeadResponse*) override;
  grpc::Status ListLeadHistory(grpc::ServerContext*, const v1::ListLeadHistoryRequest*,
                               v1::ListLeadHistoryResponse*) override;
  // Raw: its rows are decoded one by one (import_stream.h).
  grpc::ServerReadReactor<grpc::ByteBuffer>* ImportLeads(grpc::CallbackServerContext*,
                                                         grpc::ByteBuffer*) override;

  grpc::Status RecordTouchpoint(grpc::ServerContext*, const v1::RecordTouchpointRequest*,
                                v1::RecordTouchpointResponse*) override;
  grpc::Status ListTouchpoints(grpc::ServerContext*, const v1::ListTouchpointsRequest*,
                               v1::ListTouchpointsResponse*) override;

  grpc::Status GetScoringPolicy(grpc::ServerContext*, const v1::GetScoringPolicyRequest*,
                                v1::ScoringPolicy*) override;
  grpc::Status UpdateScoringPolicy(grpc::ServerContext*, const v1::UpdateScoringPolicyRequest*,
                                   v1::ScoringPolicy*) override;
  grpc::Status RescoreLeads(grpc::ServerContext*, const v1::RescoreLeadsRequest*,
                            v1::RescoreLeadsResponse*) override;
  grpc::Status ListDuplicateLeads(grpc::ServerContext*, const v1::ListDuplicateLeadsRequest*,
                                  v1::ListDuplicateLeadsResponse*) override;
  grpc::Status MergeLeads(grpc::ServerContext*, const v1::MergeLeadsRequest*, v1::Lead*) override;
  grpc::Status CalibrateScoringPolicy(grpc::ServerContext*,
                                      const v1::CalibrateScoringPolicyRequest*,
                                      v1::CalibrateScoringPolicyResponse*) override;

  grpc::ServerWriteReactor<feed::v1::ChangeEvent>* WatchEvents(
      grpc::CallbackServerContext*, const feed::v1::WatchEventsRequest*) override;

  grpc::Status GetCampaignMetrics(grpc::ServerContext*, const v1::GetCampaignMetricsRequest*,
                                  v1::CampaignMetrics*) override;
  grpc::Status GetFunnelStats(grpc::ServerContext*, const v1::GetFunnelStatsRequest*,
                              v1::FunnelStats*) override;
  grpc::Status GetHandoffStatus(grpc::ServerContext*, const v1::GetHandoffStatusRequest*,
                                v1::HandoffStatus*) override;
  grpc::Status GetRelayStats(grpc::ServerContext*, const v1::GetRelayStatsRequest*,
                             handoff::v1::RelayStats*) override;

 private:
  // Validates and normalises a capture request (also one ImportLeads row).
  absl::StatusOr<v1::CaptureLeadRequest> PrepareCapture(const v1::CaptureLeadRequest& request);

  using Call = common::Admitted<Stores>;

  // The stores, reached only through the gate's admission of a call.
  const common::Gate<Stores> gate_;
  // Where import streams validate and write their rows; a stream has at most one
  // chunk here at a time, so this bounds threads, not streams.
  common::WorkQueue import_workers_{8};
};

}  // namespace funnel::marketing
