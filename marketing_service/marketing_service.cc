#include "marketing_service/marketing_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/field_violations.h"
#include "common/pagination.h"
#include "common/request_limits.h"
#include "common/status.h"
#include "common/time_range.h"
#include "common/time_util.h"
#include "common/validation.h"
#include "handoff/email.h"
#include "handoff/validation.h"
#include "marketing_service/calibration.h"
#include "marketing_service/import_stream.h"
#include "marketing_service/import_writer.h"
#include "marketing_service/scoring.h"

namespace funnel::marketing {

using common::FieldViolations;
using common::MaskPaths;
using common::PageSize;
using common::RequireEnum;
using common::RequireNonNegativeId;
using common::RequirePositiveId;
using common::ToGrpcStatus;
using grpc::ServerContext;
using grpc::Status;
using handoff::NormalizeEmail;
using handoff::ValidateContactFields;

namespace {

void CheckCriteria(const v1::SegmentCriteria& c, FieldViolations& v) {
  for (int i = 0; i < c.stages_size(); ++i) {
    v.Check(RequireEnum(c.stages(i), v1::LeadStage_IsValid,
                        absl::StrCat("segment.criteria.stages[", i, "]"), false));
  }
  for (int i = 0; i < c.temperatures_size(); ++i) {
    v.Check(RequireEnum(c.temperatures(i), handoff::v1::Temperature_IsValid,
                        absl::StrCat("segment.criteria.temperatures[", i, "]"), false));
  }
  if (c.min_company_size() < 0) v.Add("segment.criteria.min_company_size", "must be >= 0");
  if (c.max_company_size() < 0) v.Add("segment.criteria.max_company_size", "must be >= 0");
  if (c.max_company_size() > 0 && c.max_company_size() < c.min_company_size()) {
    v.Add("segment.criteria.max_company_size", "less than min_company_size");
  }
}

}  // namespace

Status MarketingServiceImpl::CreateSegment(ServerContext* ctx, const v1::CreateSegmentRequest* req,
                                           v1::Segment* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  FieldViolations v;
  if (req->segment().name().empty()) v.Add("segment.name", "required");
  if (req->segment().name().size() > 200) v.Add("segment.name", "longer than 200 characters");
  if (req->segment().description().size() > 2000) {
    v.Add("segment.description", "longer than 2000 characters");
  }
  CheckCriteria(req->segment().criteria(), v);
  RETURN_IF_ERROR_GRPC(v.status());
  ASSIGN_OR_RETURN_GRPC(*resp, call->segments->Create(req->segment(), call.KeyOf(*req)));
  return Status::OK;
}

Status MarketingServiceImpl::GetSegment(ServerContext* ctx, const v1::GetSegmentRequest* req,
                                        v1::Segment* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->segment_id(), "segment_id"));
  ASSIGN_OR_RETURN_GRPC(*resp, call->segments->Get(req->segment_id()));
  return Status::OK;
}

Status MarketingServiceImpl::ListSegments(ServerContext* ctx, const v1::ListSegmentsRequest* req,
                                          v1::ListSegmentsResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  ASSIGN_OR_RETURN_GRPC(int page_size, PageSize(req->page_size()));
  ASSIGN_OR_RETURN_GRPC(*resp, call->segments->List(page_size, req->page_token()));
  return Status::OK;
}

Status MarketingServiceImpl::ListSegmentLeads(ServerContext* ctx,
                                              const v1::ListSegmentLeadsRequest* req,
                                              v1::ListLeadsResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->segment_id(), "segment_id"));
  ASSIGN_OR_RETURN_GRPC(int page_size, PageSize(req->page_size()));
  ASSIGN_OR_RETURN_GRPC(v1::Segment segment, call->segments->Get(req->segment_id()));
  LeadFilter filter;
  filter.segment = segment.criteria();
  filter.exclude_erased = true;
  filter.scope = absl::StrCat("segment:", segment.segment_id());
  ASSIGN_OR_RETURN_GRPC(*resp, call->leads->ListLeads(filter, page_size, req->page_token()));
  return Status::OK;
}

Status MarketingServiceImpl::CreateCampaign(ServerContext* ctx,
                                            const v1::CreateCampaignRequest* req,
                                            v1::Campaign* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(ValidateCampaign(req->campaign()));
  ASSIGN_OR_RETURN_GRPC(*resp, call->campaigns->Create(req->campaign(), call.KeyOf(*req)));
  return Status::OK;
}

Status MarketingServiceImpl::GetCampaign(ServerContext* ctx, const v1::GetCampaignRequest* req,
                                         v1::Campaign* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->campaign_id(), "campaign_id"));
  ASSIGN_OR_RETURN_GRPC(*resp, call->campaigns->Get(req->campaign_id()));
  return Status::OK;
}

Status MarketingServiceImpl::ListCampaigns(ServerContext* ctx, const v1::ListCampaignsRequest* req,
                                           v1::ListCampaignsResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  ASSIGN_OR_RETURN_GRPC(int page_size, PageSize(req->page_size()));
  RETURN_IF_ERROR_GRPC(RequireEnum(req->state(), v1::CampaignState_IsValid, "state", true));
  RETURN_IF_ERROR_GRPC(RequireEnum(req->channel(), v1::Channel_IsValid, "channel", true));
  ASSIGN_OR_RETURN_GRPC(
      *resp, call->campaigns->List(req->state(), req->channel(), page_size, req->page_token()));
  return Status::OK;
}

Status MarketingServiceImpl::UpdateCampaign(ServerContext* ctx,
                                            const v1::UpdateCampaignRequest* req,
                                            v1::Campaign* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->campaign().campaign_id(), "campaign.campaign_id"));
  ASSIGN_OR_RETURN_GRPC(std::vector<std::string> paths,
                        MaskPaths(req->update_mask(),
                                  {"name", "channel", "target_segment_id", "budget", "actual_cost",
                                   "start_time", "end_time", "state"},
                                  /*required=*/true));
  RETURN_IF_ERROR_GRPC(
      RequireEnum(req->campaign().state(), v1::CampaignState_IsValid, "campaign.state", true));
  for (const std::string& p : paths) {
    if (p == "state" && req->campaign().state() == v1::CAMPAIGN_STATE_UNSPECIFIED) {
      return ToGrpcStatus(
          absl::InvalidArgumentError("campaign.state: required when in update_mask"));
    }
  }
  ASSIGN_OR_RETURN_GRPC(*resp, call->campaigns->Update(req->campaign(), paths, call.KeyOf(*req)));
  return Status::OK;
}

absl::StatusOr<v1::CaptureLeadRequest> MarketingServiceImpl::PrepareCapture(
    const v1::CaptureLeadRequest& request) {
  // The guard checked a CaptureLead's sizes; an ImportLeads row has only this.
  RETURN_IF_ERROR(common::CheckRequestSizes(request));
  v1::CaptureLeadRequest prepared = request;
  FieldViolations v;
  if (auto email = v.Take(NormalizeEmail(request.contact().email(), "contact.email"))) {
    prepared.mutable_contact()->set_email(*email);
  }
  v.Check(ValidateContactFields(request.contact(), "contact."));
  v.Check(RequireNonNegativeId(request.campaign_id(), "campaign_id"));
  v.Check(RequireNonNegativeId(request.referrer_lead_id(), "referrer_lead_id"));
  v.Check(RequireEnum(request.touchpoint_type(), handoff::v1::TouchpointType_IsValid,
                      "touchpoint_type", true));
  v.Check(RequireEnum(request.consent(), handoff::v1::ConsentStatus_IsValid, "consent", true));
  RETURN_IF_ERROR(v.status());
  return prepared;
}

Status MarketingServiceImpl::CaptureLead(ServerContext* ctx, const v1::CaptureLeadRequest* req,
                                         v1::CaptureLeadResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  ASSIGN_OR_RETURN_GRPC(v1::CaptureLeadRequest prepared, PrepareCapture(*req));
  ASSIGN_OR_RETURN_GRPC(*resp, call->leads->Capture(prepared, call.actor(), absl::Now()));
  return Status::OK;
}

Status MarketingServiceImpl::GetLead(ServerContext* ctx, const v1::GetLeadRequest* req,
                                     v1::Lead* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->lead_id(), "lead_id"));
  ASSIGN_OR_RETURN_GRPC(*resp, call->leads->FindLead(req->lead_id()));
  return Status::OK;
}

Status MarketingServiceImpl::ListLeads(ServerContext* ctx, const v1::ListLeadsRequest* req,
                                       v1::ListLeadsResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  ASSIGN_OR_RETURN_GRPC(int page_size, PageSize(req->page_size()));
  RETURN_IF_ERROR_GRPC(
      RequireEnum(req->temperature(), handoff::v1::Temperature_IsValid, "temperature", true));
  RETURN_IF_ERROR_GRPC(RequireEnum(req->stage(), v1::LeadStage_IsValid, "stage", true));
  RETURN_IF_ERROR_GRPC(RequireEnum(req->order_by(), v1::LeadOrder_IsValid, "order_by", true));
  RETURN_IF_ERROR_GRPC(RequireNonNegativeId(req->campaign_id(), "campaign_id"));
  RETURN_IF_ERROR_GRPC(RequireNonNegativeId(req->segment_id(), "segment_id"));
  LeadFilter filter;
  filter.temperature = req->temperature();
  filter.stage = req->stage();
  filter.campaign_id = req->campaign_id();
  filter.order = req->order_by() == v1::LEAD_ORDER_SCORE_DESC ? v1::LEAD_ORDER_SCORE_DESC
                                                              : v1::LEAD_ORDER_NEWEST_FIRST;
  if (req->segment_id() != 0) {
    ASSIGN_OR_RETURN_GRPC(v1::Segment segment, call->segments->Get(req->segment_id()));
    filter.segment = segment.criteria();
  }
  if (!req->email().empty()) {
    ASSIGN_OR_RETURN_GRPC(filter.email, NormalizeEmail(req->email()));
  }
  filter.scope =
      absl::StrCat("leads:", req->temperature(), ":", req->stage(), ":", req->campaign_id(), ":",
                   req->segment_id(), ":", filter.order, ":", filter.email);
  ASSIGN_OR_RETURN_GRPC(*resp, call->leads->ListLeads(filter, page_size, req->page_token()));
  return Status::OK;
}

Status MarketingServiceImpl::UpdateLead(ServerContext* ctx, const v1::UpdateLeadRequest* req,
                                        v1::Lead* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->lead().lead_id(), "lead.lead_id"));
  ASSIGN_OR_RETURN_GRPC(std::vector<std::string> paths,
                        MaskPaths(req->update_mask(),
                                  {"contact.first_name", "contact.last_name", "contact.company",
                                   "contact.title", "contact.phone", "contact.industry",
                                   "contact.region", "contact.company_size", "consent"},
                                  /*required=*/true));
  FieldViolations v;
  v.Check(ValidateContactFields(req->lead().contact(), "lead.contact."));
  v.Check(
      RequireEnum(req->lead().consent(), handoff::v1::ConsentStatus_IsValid, "lead.consent", true));
  RETURN_IF_ERROR_GRPC(v.status());
  ASSIGN_OR_RETURN_GRPC(*resp, call->leads->UpdateLead(req->lead(), paths, call.KeyOf(*req),
                                                       call.actor(), absl::Now()));
  return Status::OK;
}

Status MarketingServiceImpl::QualifyLead(ServerContext* ctx, const v1::QualifyLeadRequest* req,
                                         v1::Lead* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  FieldViolations v;
  v.Check(RequirePositiveId(req->lead_id(), "lead_id"));
  if (req->note().empty()) v.Add("note", "required");
  if (req->note().size() > 2000) v.Add("note", "longer than 2000 characters");
  RETURN_IF_ERROR_GRPC(v.status());
  ASSIGN_OR_RETURN_GRPC(*resp, call->leads->Qualify(req->lead_id(), req->note(), call.KeyOf(*req),
                                                    call.actor(), absl::Now()));
  return Status::OK;
}

Status MarketingServiceImpl::Unsubscribe(ServerContext* ctx, const v1::UnsubscribeRequest* req,
                                         v1::UnsubscribeResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  ASSIGN_OR_RETURN_GRPC(std::string email, NormalizeEmail(req->email()));
  ASSIGN_OR_RETURN_GRPC(*resp, call->leads->Unsubscribe(email, call.KeyOf(*req), call.actor()));
  return Status::OK;
}

Status MarketingServiceImpl::ResubscribeLead(ServerContext* ctx,
                                             const v1::ResubscribeLeadRequest* req,
                                             v1::Lead* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->lead_id(), "lead_id"));
  if (req->source().empty()) return ToGrpcStatus(absl::InvalidArgumentError("source: required"));
  if (req->source().size() > 200) {
    return ToGrpcStatus(absl::InvalidArgumentError("source: longer than 200 characters"));
  }
  const absl::Time now = absl::Now();
  absl::Time given = now;
  if (req->has_consent_time()) {
    RETURN_IF_ERROR_GRPC(common::RequireStorableTime(req->consent_time(), "consent_time"));
    given = common::FromProtoTime(req->consent_time());
    if (given > now + absl::Minutes(5)) {
      return ToGrpcStatus(absl::InvalidArgumentError("consent_time: in the future"));
    }
  }
  ASSIGN_OR_RETURN_GRPC(*resp, call->leads->Resubscribe(req->lead_id(), req->source(), given,
                                                        call.KeyOf(*req), call.actor(), now));
  return Status::OK;
}

Status MarketingServiceImpl::EraseLead(ServerContext* ctx, const v1::EraseLeadRequest* req,
                                       v1::EraseLeadResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->lead_id(), "lead_id"));
  ASSIGN_OR_RETURN_GRPC(
      *resp, call->leads->Erase(req->lead_id(), call.KeyOf(*req), call.actor(), absl::Now()));
  return Status::OK;
}

Status MarketingServiceImpl::ListLeadHistory(ServerContext* ctx,
                                             const v1::ListLeadHistoryRequest* req,
                                             v1::ListLeadHistoryResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->lead_id(), "lead_id"));
  ASSIGN_OR_RETURN_GRPC(int page_size, PageSize(req->page_size()));
  ASSIGN_OR_RETURN_GRPC(*resp,
                        call->leads->ListHistory(req->lead_id(), page_size, req->page_token()));
  return Status::OK;
}

grpc::ServerWriteReactor<feed::v1::ChangeEvent>* MarketingServiceImpl::WatchEvents(
    grpc::CallbackServerContext* ctx, const feed::v1::WatchEventsRequest* req) {
  absl::StatusOr<Call> call = gate_.Admit(*ctx, *req);
  return feed::ServeWatch(call.ok() ? absl::StatusOr<feed::FeedHub*>((*call)->feed) : call.status(),
                          ctx, *req);
}

grpc::ServerReadReactor<grpc::ByteBuffer>* MarketingServiceImpl::ImportLeads(
    grpc::CallbackServerContext* ctx, grpc::ByteBuffer* resp) {
  // Rows are captured in batches, one transaction each: the same rules as
  // CaptureLead, a commit per batch instead of per row (import_writer.h).
  absl::StatusOr<Call> call = gate_.Admit(*ctx);
  LeadStore* const leads = call.ok() ? (*call)->leads : nullptr;  // none unless admitted
  return new ImportStream(
      ctx, resp,
      [leads](const std::vector<CaptureItem>& batch) { return leads->CaptureMany(batch); },
      [this](const v1::CaptureLeadRequest& row) { return PrepareCapture(row); }, &import_workers_,
      call.status());
}

Status MarketingServiceImpl::RecordTouchpoint(ServerContext* ctx,
                                              const v1::RecordTouchpointRequest* req,
                                              v1::RecordTouchpointResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->lead_id(), "lead_id"));
  RETURN_IF_ERROR_GRPC(RequireNonNegativeId(req->campaign_id(), "campaign_id"));
  RETURN_IF_ERROR_GRPC(
      RequireEnum(req->type(), handoff::v1::TouchpointType_IsValid, "type", false));
  const absl::Time now = absl::Now();
  if (req->has_occur_time()) {
    RETURN_IF_ERROR_GRPC(common::RequireStorableTime(req->occur_time(), "occur_time"));
  }
  if (req->has_occur_time() && common::FromProtoTime(req->occur_time()) > now + absl::Minutes(5)) {
    return ToGrpcStatus(absl::InvalidArgumentError("occur_time: in the future"));
  }
  ASSIGN_OR_RETURN_GRPC(*resp,
                        call->leads->RecordTouchpoint(*req, call.actor(), now, call.KeyOf(*req)));
  return Status::OK;
}

Status MarketingServiceImpl::ListTouchpoints(ServerContext* ctx,
                                             const v1::ListTouchpointsRequest* req,
                                             v1::ListTouchpointsResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->lead_id(), "lead_id"));
  ASSIGN_OR_RETURN_GRPC(int page_size, PageSize(req->page_size()));
  ASSIGN_OR_RETURN_GRPC(*resp,
                        call->leads->ListTouchpoints(req->lead_id(), page_size, req->page_token()));
  return Status::OK;
}

Status MarketingServiceImpl::GetScoringPolicy(ServerContext* ctx,
                                              const v1::GetScoringPolicyRequest* req,
                                              v1::ScoringPolicy* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  ASSIGN_OR_RETURN_GRPC(*resp, call->scoring->Get());
  return Status::OK;
}

Status MarketingServiceImpl::UpdateScoringPolicy(ServerContext* ctx,
                                                 const v1::UpdateScoringPolicyRequest* req,
                                                 v1::ScoringPolicy* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  ASSIGN_OR_RETURN_GRPC(
      std::vector<std::string> paths,
      MaskPaths(req->update_mask(),
                {"touchpoint_points", "industry_points", "region_points", "company_size_points",
                 "warm_threshold", "hot_threshold", "decay_half_life_days"},
                /*required=*/false));
  v1::ScoringPolicy next = req->policy();
  if (!paths.empty()) {
    // Merge the named fields into the policy in force.
    ASSIGN_OR_RETURN_GRPC(next, call->scoring->Get());
    const v1::ScoringPolicy& in = req->policy();
    for (const std::string& p : paths) {
      if (p == "touchpoint_points") *next.mutable_touchpoint_points() = in.touchpoint_points();
      if (p == "industry_points") *next.mutable_industry_points() = in.industry_points();
      if (p == "region_points") *next.mutable_region_points() = in.region_points();
      if (p == "company_size_points")
        *next.mutable_company_size_points() = in.company_size_points();
      if (p == "warm_threshold") next.set_warm_threshold(in.warm_threshold());
      if (p == "hot_threshold") next.set_hot_threshold(in.hot_threshold());
      if (p == "decay_half_life_days") next.set_decay_half_life_days(in.decay_half_life_days());
    }
  }
  RETURN_IF_ERROR_GRPC(ValidateScoringPolicy(next));
  ASSIGN_OR_RETURN_GRPC(*resp, call->scoring->Update(next, req->policy().etag(), call.KeyOf(*req)));
  return Status::OK;
}

Status MarketingServiceImpl::RescoreLeads(ServerContext* ctx, const v1::RescoreLeadsRequest* req,
                                          v1::RescoreLeadsResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  ASSIGN_OR_RETURN_GRPC(*resp,
                        call->leads->RescoreAll(call.KeyOf(*req), call.actor(), absl::Now()));
  return Status::OK;
}

Status MarketingServiceImpl::ListDuplicateLeads(ServerContext* ctx,
                                                const v1::ListDuplicateLeadsRequest* req,
                                                v1::ListDuplicateLeadsResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequireNonNegativeId(req->lead_id(), "lead_id"));
  ASSIGN_OR_RETURN_GRPC(int page_size, PageSize(req->page_size()));
  if (req->lead_id() != 0) RETURN_IF_ERROR_GRPC(call->leads->FindLead(req->lead_id()).status());
  ASSIGN_OR_RETURN_GRPC(*resp,
                        call->leads->ListDuplicates(req->lead_id(), page_size, req->page_token()));
  return Status::OK;
}

Status MarketingServiceImpl::MergeLeads(ServerContext* ctx, const v1::MergeLeadsRequest* req,
                                        v1::Lead* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  // LeadMerged carries at most 100 merged ids (the contract's bound).
  constexpr int kMaxMergedLeads = 100;
  const std::vector<int64_t> duplicates(req->duplicate_lead_ids().begin(),
                                        req->duplicate_lead_ids().end());
  RETURN_IF_ERROR_GRPC(common::ValidateMergeIds(req->survivor_lead_id(), duplicates,
                                                kMaxMergedLeads, "survivor_lead_id",
                                                "duplicate_lead_ids"));
  ASSIGN_OR_RETURN_GRPC(
      *resp, call->leads->MergeLeads(req->survivor_lead_id(), duplicates, call.KeyOf(*req),
                                     call.actor(), absl::Now()));
  return Status::OK;
}

Status MarketingServiceImpl::CalibrateScoringPolicy(ServerContext* ctx,
                                                    const v1::CalibrateScoringPolicyRequest* req,
                                                    v1::CalibrateScoringPolicyResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  ASSIGN_OR_RETURN_GRPC(common::TimeRange range,
                        common::ReportRange(req->has_start_time(), req->start_time(),
                                            req->has_end_time(), req->end_time(), absl::Now()));
  ASSIGN_OR_RETURN_GRPC(v1::ScoringPolicy current, call->scoring->Get());
  ASSIGN_OR_RETURN_GRPC(std::vector<CalibrationOutcome> outcomes,
                        call->scoring->Outcomes(range, current.decay_half_life_days()));
  ASSIGN_OR_RETURN_GRPC(*resp, CalibrateScoring(current, outcomes));
  return Status::OK;
}

Status MarketingServiceImpl::GetCampaignMetrics(ServerContext* ctx,
                                                const v1::GetCampaignMetricsRequest* req,
                                                v1::CampaignMetrics* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->campaign_id(), "campaign_id"));
  ASSIGN_OR_RETURN_GRPC(*resp, call->reports->Metrics(req->campaign_id(), absl::Now()));
  return Status::OK;
}

Status MarketingServiceImpl::GetFunnelStats(ServerContext* ctx,
                                            const v1::GetFunnelStatsRequest* req,
                                            v1::FunnelStats* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequireNonNegativeId(req->campaign_id(), "campaign_id"));
  ASSIGN_OR_RETURN_GRPC(common::TimeRange range,
                        common::ReportRange(req->has_start_time(), req->start_time(),
                                            req->has_end_time(), req->end_time(), absl::Now()));
  RETURN_IF_ERROR_GRPC(RequireNonNegativeId(req->segment_id(), "segment_id"));
  ASSIGN_OR_RETURN_GRPC(*resp, call->reports->FunnelStats(range.start, range.end,
                                                          req->campaign_id(), req->segment_id()));
  return Status::OK;
}

Status MarketingServiceImpl::GetHandoffStatus(ServerContext* ctx,
                                              const v1::GetHandoffStatusRequest* req,
                                              v1::HandoffStatus* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->lead_id(), "lead_id"));
  ASSIGN_OR_RETURN_GRPC(*resp, call->leads->GetHandoffStatus(req->lead_id()));
  return Status::OK;
}

Status MarketingServiceImpl::GetRelayStats(ServerContext* ctx, const v1::GetRelayStatsRequest* req,
                                           handoff::v1::RelayStats* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  ASSIGN_OR_RETURN_GRPC(*resp, call->leads->GetRelayStats(absl::Now()));
  return Status::OK;
}

}  // namespace funnel::marketing
