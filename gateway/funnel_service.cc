#include "gateway/funnel_service.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "common/field_violations.h"
#include "common/status.h"
#include "common/time_range.h"
#include "common/validation.h"
#include "gateway/lead_journey.h"

namespace funnel::gateway {
namespace {

// `converted` of the `from_count` at the earlier step made the later one: a subset,
// so the rate stays within 0..1.
void Step(v1::FunnelReport* report, const char* from, const char* to, int64_t from_count,
          int64_t converted, double median_seconds) {
  v1::StepConversion* c = report->add_conversions();
  c->set_from_step(from);
  c->set_to_step(to);
  c->set_converted(converted);
  c->set_rate(from_count > 0 ? static_cast<double>(converted) / from_count : 0);
  c->set_median_seconds(median_seconds);
}

// The state of one report: both backend answers, whichever comes last finishes.
struct ReportCall {
  ReportCall(grpc::ServerUnaryReactor* reactor, v1::FunnelReport* response)
      : reactor(reactor), response(response) {}

  grpc::ServerUnaryReactor* const reactor;
  v1::FunnelReport* const response;
  std::unique_ptr<grpc::ClientContext> marketing_ctx;
  std::unique_ptr<grpc::ClientContext> sales_ctx;
  marketing::v1::GetFunnelStatsRequest marketing_request;
  sales::v1::GetFunnelStatsRequest sales_request;
  marketing::v1::FunnelStats marketing_stats;
  sales::v1::FunnelStats sales_stats;
  grpc::Status marketing_status;
  grpc::Status sales_status;
  CallPermit permit;  // the caller's place under its in-flight limit
  std::atomic<int> pending{2};

  // Never partial numbers presented as whole: a failing side fails the report,
  // naming the service.
  void Done() {
    if (--pending > 0) return;
    permit = CallPermit();  // the call is over for the caller's limits
    for (auto [status, name] : {std::pair{&marketing_status, "marketing_service"},
                                std::pair{&sales_status, "sales_service"}}) {
      if (status->ok()) continue;
      const bool down = status->error_code() == grpc::StatusCode::UNAVAILABLE ||
                        status->error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
      reactor->Finish(common::ToGrpcStatus(absl::Status(
          down ? absl::StatusCode::kUnavailable
               : static_cast<absl::StatusCode>(status->error_code()),
          absl::StrCat(name, down ? " unavailable: " : ": ", status->error_message()))));
      delete this;
      return;
    }
    *response = ComposeFunnelReport(marketing_stats, sales_stats);
    reactor->Finish(grpc::Status::OK);
    delete this;
  }
};

}  // namespace

v1::FunnelReport ComposeFunnelReport(const marketing::v1::FunnelStats& m,
                                     const sales::v1::FunnelStats& s) {
  v1::FunnelReport r;
  r.set_leads_captured(m.leads_captured());
  r.set_mqls(m.mqls());
  r.set_handed_off(m.handed_off_leads());
  r.set_accepted(m.accepted_leads());
  r.set_rehandoffs(m.rehandoffs());
  for (const auto& rejected : m.rejected_by_reason()) {
    auto* out = r.add_rejected_by_reason();
    out->set_reason(rejected.reason());
    out->set_count(rejected.count());
  }
  r.set_opportunities(s.opportunities());
  r.set_won(s.won());
  r.set_lost(s.lost());
  *r.mutable_won_revenue() = s.won_revenue();
  *r.mutable_new_business_won_revenue() = s.new_business_won_revenue();
  *r.mutable_expansion_won_revenue() = s.expansion_won_revenue();
  *r.mutable_referral_sourced_pipeline() = s.referral_sourced_pipeline();
  *r.mutable_marketing_sourced_pipeline() = s.marketing_sourced_pipeline();
  *r.mutable_sales_sourced_pipeline() = s.sales_sourced_pipeline();
  Step(&r, "captured", "mql", m.leads_captured(), m.captured_then_qualified(),
       m.median_capture_to_mql_seconds());
  Step(&r, "mql", "handed_off", m.mqls(), m.qualified_then_handed_off(),
       m.median_mql_to_handoff_seconds());
  Step(&r, "handed_off", "accepted", m.handed_off_leads(), m.handed_off_then_accepted(),
       m.median_handoff_to_decision_seconds());
  Step(&r, "opportunity", "won", s.opportunities(), s.opened_then_won(),
       s.median_open_to_won_seconds());
  return r;
}

FunnelServiceImpl::FunnelServiceImpl(const Gatekeeper* gatekeeper,
                                     std::shared_ptr<grpc::Channel> marketing,
                                     std::shared_ptr<grpc::Channel> sales)
    : gatekeeper_(gatekeeper),
      marketing_(marketing::v1::MarketingService::NewStub(marketing)),
      sales_(sales::v1::SalesService::NewStub(sales)) {}

grpc::ServerUnaryReactor* FunnelServiceImpl::GetFunnelReport(
    grpc::CallbackServerContext* context, const v1::GetFunnelReportRequest* request,
    v1::FunnelReport* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Admission> admission =
      gatekeeper_->Admit(*context, "/funnel.gateway.v1.FunnelService/GetFunnelReport");
  if (!admission.ok()) {
    reactor->Finish(Refusal(admission.status(), context));
    return reactor;
  }
  common::FieldViolations violations;
  violations.Check(common::RequireNonNegativeId(request->campaign_id(), "campaign_id"));
  violations.Check(common::RequireNonNegativeId(request->segment_id(), "segment_id"));
  violations.Check(common::ReportRange(request->has_start_time(), request->start_time(),
                                       request->has_end_time(), request->end_time(), absl::Now())
                       .status());
  if (const absl::Status valid = violations.status(); !valid.ok()) {
    reactor->Finish(common::ToGrpcStatus(valid));
    return reactor;
  }
  auto* call = new ReportCall(reactor, response);
  call->permit = std::move(admission->permit);
  call->marketing_ctx = grpc::ClientContext::FromCallbackServerContext(*context);
  call->sales_ctx = grpc::ClientContext::FromCallbackServerContext(*context);
  gatekeeper_->Stamp(*context, admission->principal, call->marketing_ctx.get());
  gatekeeper_->Stamp(*context, admission->principal, call->sales_ctx.get());
  // Both requests have the same fields: the range and the campaign.
  if (request->has_start_time()) {
    *call->marketing_request.mutable_start_time() = request->start_time();
    *call->sales_request.mutable_start_time() = request->start_time();
  }
  if (request->has_end_time()) {
    *call->marketing_request.mutable_end_time() = request->end_time();
    *call->sales_request.mutable_end_time() = request->end_time();
  }
  call->marketing_request.set_campaign_id(request->campaign_id());
  call->marketing_request.set_segment_id(request->segment_id());
  call->sales_request.set_campaign_id(request->campaign_id());
  auto* sales = sales_.get();
  auto ask_sales = [call, sales] {
    sales->async()->GetFunnelStats(call->sales_ctx.get(), &call->sales_request, &call->sales_stats,
                                   [call](grpc::Status s) {
                                     call->sales_status = std::move(s);
                                     call->Done();
                                   });
  };
  // A segment is marketing's notion: sales can only follow the people in it, so it
  // is asked after marketing names them. Otherwise both are asked at once.
  const bool by_segment = request->segment_id() != 0;
  marketing_->async()->GetFunnelStats(
      call->marketing_ctx.get(), &call->marketing_request, &call->marketing_stats,
      [call, by_segment, ask_sales](grpc::Status s) {
        const bool ok = s.ok();
        call->marketing_status = std::move(s);
        if (by_segment) {
          if (ok) {
            call->sales_request.set_restrict_to_leads(true);
            *call->sales_request.mutable_lead_ids() = call->marketing_stats.handed_off_lead_ids();
            ask_sales();
          } else {
            call->sales_status = grpc::Status(grpc::StatusCode::CANCELLED, "not asked");
            call->Done();  // for the sales call never made
          }
        }
        call->Done();
      });
  if (!by_segment) ask_sales();
  return reactor;
}

grpc::ServerUnaryReactor* FunnelServiceImpl::GetLeadJourney(
    grpc::CallbackServerContext* context, const v1::GetLeadJourneyRequest* request,
    v1::LeadJourney* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Admission> admission =
      gatekeeper_->Admit(*context, "/funnel.gateway.v1.FunnelService/GetLeadJourney");
  if (!admission.ok()) {
    reactor->Finish(Refusal(admission.status(), context));
    return reactor;
  }
  // Shared: the work queue copies its closures; the permit goes with the last copy.
  auto admitted = std::make_shared<Admission>(*std::move(admission));
  workers_.Post([this, context, request, response, reactor, admitted] {
    const Principal& p = admitted->principal;
    auto backend_context = [&]() {
      std::unique_ptr<grpc::ClientContext> c =
          grpc::ClientContext::FromCallbackServerContext(*context);
      if (context->deadline() == std::chrono::system_clock::time_point::max()) {
        c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      }
      gatekeeper_->Stamp(*context, p, c.get());
      return c;
    };
    absl::StatusOr<v1::LeadJourney> journey =
        AssembleJourney(*request, ViewFor(p.role), backend_context, *marketing_, *sales_);
    if (journey.ok()) *response = *std::move(journey);
    admitted->permit = CallPermit();
    reactor->Finish(common::ToGrpcStatus(journey.status()));
  });
  return reactor;
}

}  // namespace funnel::gateway
