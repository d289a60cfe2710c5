#pragma once

// gRPC adapter for funnel.sales.v1.SalesService: each handler validates the request
// (INVALID_ARGUMENT naming the field), calls a store with the caller's identity for
// the row rules, and maps the result through common::ToGrpcStatus.

#include "common/feed/feed_hub.h"
#include "common/server/gate.h"
#include "common/server/internal_guard.h"
#include "funnel/handoff/v1/handoff.grpc.pb.h"
#include "funnel/sales/v1/sales_service.grpc.pb.h"
#include "sales_service/directory_store.h"
#include "sales_service/inbox_store.h"
#include "sales_service/opportunity_store.h"
#include "sales_service/report_store.h"
#include "sales_service/routing_store.h"

namespace funnel::sales {

// WatchEvents is a callback method (common/feed/feed_hub.h): a watch must not hold a
// thread for as long as it follows the feed.
class SalesServiceImpl final
    : public v1::SalesService::WithCallbackMethod_WatchEvents<v1::SalesService::Service> {
 public:
  // The stores the handlers call (through the gate); they outlive the service.
  struct Stores {
    DirectoryStore* directory;
    InboxStore* inbox;
    OpportunityStore* opportunities;
    ReportStore* reports;
    RoutingStore* routing;
    feed::FeedHub* feed = nullptr;  // none: WatchEvents is UNIMPLEMENTED
  };

  explicit SalesServiceImpl(const Stores& stores,
                            const common::InternalGuard* guard = common::OpenGuard())
      : gate_(stores, guard) {}

  grpc::ServerWriteReactor<feed::v1::ChangeEvent>* WatchEvents(
      grpc::CallbackServerContext*, const feed::v1::WatchEventsRequest*) override;

  using Ctx = grpc::ServerContext;
  grpc::Status CreateRep(Ctx*, const v1::CreateRepRequest*, v1::Rep*) override;
  grpc::Status GetRep(Ctx*, const v1::GetRepRequest*, v1::Rep*) override;
  grpc::Status ListReps(Ctx*, const v1::ListRepsRequest*, v1::ListRepsResponse*) override;
  grpc::Status UpdateRep(Ctx*, const v1::UpdateRepRequest*, v1::Rep*) override;
  grpc::Status ListHandoffs(Ctx*, const v1::ListHandoffsRequest*,
                            v1::ListHandoffsResponse*) override;
  grpc::Status GetHandoff(Ctx*, const v1::GetHandoffRequest*, v1::Handoff*) override;
  grpc::Status AssignHandoff(Ctx*, const v1::AssignHandoffRequest*, v1::Handoff*) override;
  grpc::Status AcceptHandoff(Ctx*, const v1::AcceptHandoffRequest*,
                             v1::AcceptHandoffResponse*) override;
  grpc::Status RejectHandoff(Ctx*, const v1::RejectHandoffRequest*, v1::Handoff*) override;
  grpc::Status CreateRoutingRule(Ctx*, const v1::CreateRoutingRuleRequest*,
                                 v1::RoutingRule*) override;
  grpc::Status ListRoutingRules(Ctx*, const v1::ListRoutingRulesRequest*,
                                v1::ListRoutingRulesResponse*) override;
  grpc::Status UpdateRoutingRule(Ctx*, const v1::UpdateRoutingRuleRequest*,
                                 v1::RoutingRule*) override;
  grpc::Status DeleteRoutingRule(Ctx*, const v1::DeleteRoutingRuleRequest*,
                                 v1::DeleteRoutingRuleResponse*) override;
  grpc::Status ReorderRoutingRules(Ctx*, const v1::ReorderRoutingRulesRequest*,
                                   v1::ListRoutingRulesResponse*) override;
  grpc::Status CreateAccount(Ctx*, const v1::CreateAccountRequest*, v1::Account*) override;
  grpc::Status GetAccount(Ctx*, const v1::GetAccountRequest*, v1::Account*) override;
  grpc::Status ListAccounts(Ctx*, const v1::ListAccountsRequest*,
                            v1::ListAccountsResponse*) override;
  grpc::Status MergeAccounts(Ctx*, const v1::MergeAccountsRequest*, v1::Account*) override;
  grpc::Status MergeContacts(Ctx*, const v1::MergeContactsRequest*, v1::Contact*) override;
  grpc::Status CreateContact(Ctx*, const v1::CreateContactRequest*, v1::Contact*) override;
  grpc::Status GetContact(Ctx*, const v1::GetContactRequest*, v1::Contact*) override;
  grpc::Status ListContacts(Ctx*, const v1::ListContactsRequest*,
                            v1::ListContactsResponse*) override;
  grpc::Status CreateOpportunity(Ctx*, const v1::CreateOpportunityRequest*,
                                 v1::Opportunity*) override;
  grpc::Status GetOpportunity(Ctx*, const v1::GetOpportunityRequest*, v1::Opportunity*) override;
  grpc::Status ListOpportunities(Ctx*, const v1::ListOpportunitiesRequest*,
                                 v1::ListOpportunitiesResponse*) override;
  grpc::Status UpdateOpportunity(Ctx*, const v1::UpdateOpportunityRequest*,
                                 v1::Opportunity*) override;
  grpc::Status MoveOpportunityStage(Ctx*, const v1::MoveOpportunityStageRequest*,
                                    v1::Opportunity*) override;
  grpc::Status ListStageChanges(Ctx*, const v1::ListStageChangesRequest*,
                                v1::ListStageChangesResponse*) override;
  grpc::Status AddObjection(Ctx*, const v1::AddObjectionRequest*, v1::Objection*) override;
  grpc::Status ResolveObjection(Ctx*, const v1::ResolveObjectionRequest*, v1::Objection*) override;
  grpc::Status ListObjections(Ctx*, const v1::ListObjectionsRequest*,
                              v1::ListObjectionsResponse*) override;
  grpc::Status CloseOpportunity(Ctx*, const v1::CloseOpportunityRequest*,
                                v1::Opportunity*) override;
  grpc::Status LogActivity(Ctx*, const v1::LogActivityRequest*, v1::Activity*) override;
  grpc::Status ListActivities(Ctx*, const v1::ListActivitiesRequest*,
                              v1::ListActivitiesResponse*) override;
  grpc::Status SetQuota(Ctx*, const v1::SetQuotaRequest*, v1::Quota*) override;
  grpc::Status GetRepPerformance(Ctx*, const v1::GetRepPerformanceRequest*,
                                 v1::RepPerformance*) override;
  grpc::Status GetPipelineReport(Ctx*, const v1::GetPipelineReportRequest*,
                                 v1::PipelineReport*) override;
  grpc::Status GetFunnelStats(Ctx*, const v1::GetFunnelStatsRequest*, v1::FunnelStats*) override;
  grpc::Status GetRelayStats(Ctx*, const v1::GetRelayStatsRequest*,
                             handoff::v1::RelayStats*) override;

 private:
  using Call = common::Admitted<Stores>;

  // The stores, reached only through the gate's admission of a call.
  const common::Gate<Stores> gate_;
};

// Serves funnel.handoff.v1.HandoffInboxService: what marketing's relay delivers.
class HandoffInboxServiceImpl final : public handoff::v1::HandoffInboxService::Service {
 public:
  explicit HandoffInboxServiceImpl(InboxStore* inbox,
                                   const common::InternalGuard* guard = common::OpenGuard())
      : gate_({inbox}, guard) {}
  grpc::Status SubmitLead(grpc::ServerContext*, const handoff::v1::LeadHandoff*,
                          handoff::v1::SubmitLeadResponse*) override;
  grpc::Status EraseLead(grpc::ServerContext*, const handoff::v1::LeadErasure*,
                         handoff::v1::EraseLeadResponse*) override;
  grpc::Status UpdateConsent(grpc::ServerContext*, const handoff::v1::ConsentChange*,
                             handoff::v1::UpdateConsentResponse*) override;
  grpc::Status MergeLead(grpc::ServerContext*, const handoff::v1::LeadMerged*,
                         handoff::v1::MergeLeadResponse*) override;

 private:
  struct Stores {
    InboxStore* inbox;
  };
  using Call = common::Admitted<Stores>;

  // The store, reached only through the gate's admission of a call.
  const common::Gate<Stores> gate_;
};

}  // namespace funnel::sales
