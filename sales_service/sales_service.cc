#include "sales_service/sales_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/field_violations.h"
#include "common/pagination.h"
#include "common/server/internal_guard.h"
#include "common/server/principal.h"
#include "common/status.h"
#include "common/time_range.h"
#include "common/time_util.h"
#include "common/validation.h"
#include "handoff/email.h"
#include "handoff/validation.h"
#include "sales_service/account_rules.h"
#include "sales_service/pipeline.h"
#include "sales_service/routing.h"

namespace funnel::sales {

using common::FieldViolations;
using common::MaskPaths;
using common::PageSize;
using common::RequireEnum;
using common::RequireNonNegativeId;
using common::RequirePositiveId;
using common::ToGrpcStatus;
using grpc::Status;

namespace {

Caller CallerOf(const common::Principal& p) { return Caller{p.role, p.rep_id}; }

absl::Status RequireText(const std::string& value, absl::string_view field, size_t max,
                         bool required) {
  if (required && value.empty())
    return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  if (value.size() > max) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": longer than ", max, " characters"));
  }
  return absl::OkStatus();
}

absl::Status ValidateDate(const std::string& date, absl::string_view field) {
  if (date.empty()) return absl::OkStatus();
  absl::CivilDay day;
  if (!absl::ParseCivilTime(date, &day) || absl::FormatCivilTime(day) != date) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be a date YYYY-MM-DD"));
  }
  return absl::OkStatus();
}

}  // namespace

Status SalesServiceImpl::CreateRep(Ctx* ctx, const v1::CreateRepRequest* req, v1::Rep* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  v1::Rep rep = req->rep();
  FieldViolations v;
  v.Check(RequireText(rep.name(), "rep.name", 200, true));
  if (auto email = v.Take(handoff::NormalizeEmail(rep.email(), "rep.email"))) {
    rep.set_email(*email);
  }
  v.Check(RequireEnum(rep.role(), v1::RepRole_IsValid, "rep.role", false));
  v.Check(RequireNonNegativeId(rep.manager_rep_id(), "rep.manager_rep_id"));
  RETURN_IF_ERROR_GRPC(v.status());
  RETURN_IF_ERROR_GRPC(CheckCanCreateRep(CallerOf(call.principal()), rep));
  ASSIGN_OR_RETURN_GRPC(*resp, call->directory->CreateRep(rep, call.KeyOf(*req)));
  return Status::OK;
}

Status SalesServiceImpl::GetRep(Ctx* ctx, const v1::GetRepRequest* req, v1::Rep* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->rep_id(), "rep_id"));
  ASSIGN_OR_RETURN_GRPC(*resp, call->directory->GetRep(req->rep_id()));
  return Status::OK;
}

Status SalesServiceImpl::ListReps(Ctx* ctx, const v1::ListRepsRequest* req,
                                  v1::ListRepsResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  ASSIGN_OR_RETURN_GRPC(int page_size, PageSize(req->page_size()));
  RETURN_IF_ERROR_GRPC(RequireNonNegativeId(req->manager_rep_id(), "manager_rep_id"));
  ASSIGN_OR_RETURN_GRPC(
      *resp, call->directory->ListReps(req->manager_rep_id(), page_size, req->page_token()));
  return Status::OK;
}

Status SalesServiceImpl::UpdateRep(Ctx* ctx, const v1::UpdateRepRequest* req, v1::Rep* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->rep().rep_id(), "rep.rep_id"));
  ASSIGN_OR_RETURN_GRPC(
      std::vector<std::string> paths,
      MaskPaths(req->update_mask(), {"away", "handoff_capacity"}, /*required=*/true));
  if (req->rep().handoff_capacity() < 0 || req->rep().handoff_capacity() > 100000) {
    return ToGrpcStatus(absl::InvalidArgumentError("rep.handoff_capacity: 0 (no limit) to 100000"));
  }
  ASSIGN_OR_RETURN_GRPC(
      *resp,
      call->directory->UpdateRep(req->rep(), paths, CallerOf(call.principal()), call.KeyOf(*req)));
  return Status::OK;
}

Status SalesServiceImpl::ListHandoffs(Ctx* ctx, const v1::ListHandoffsRequest* req,
                                      v1::ListHandoffsResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  ASSIGN_OR_RETURN_GRPC(int page_size, PageSize(req->page_size()));
  RETURN_IF_ERROR_GRPC(RequireEnum(req->state(), v1::HandoffState_IsValid, "state", true));
  RETURN_IF_ERROR_GRPC(RequireNonNegativeId(req->assigned_rep_id(), "assigned_rep_id"));
  RETURN_IF_ERROR_GRPC(RequireNonNegativeId(req->lead_id(), "lead_id"));
  HandoffFilter filter{req->state(), req->assigned_rep_id(), req->overdue_only(), req->lead_id()};
  ASSIGN_OR_RETURN_GRPC(*resp,
                        call->inbox->List(filter, page_size, req->page_token(), absl::Now()));
  return Status::OK;
}

Status SalesServiceImpl::GetHandoff(Ctx* ctx, const v1::GetHandoffRequest* req, v1::Handoff* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(handoff::RequireUuid(req->handoff_id(), "handoff_id"));
  ASSIGN_OR_RETURN_GRPC(*resp, call->inbox->Get(req->handoff_id(), absl::Now()));
  return Status::OK;
}

Status SalesServiceImpl::AssignHandoff(Ctx* ctx, const v1::AssignHandoffRequest* req,
                                       v1::Handoff* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(handoff::RequireUuid(req->handoff_id(), "handoff_id"));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->rep_id(), "rep_id"));
  ASSIGN_OR_RETURN_GRPC(
      *resp, call->inbox->Assign(req->handoff_id(), req->rep_id(), CallerOf(call.principal()),
                                 call.KeyOf(*req), absl::Now()));
  return Status::OK;
}

Status SalesServiceImpl::AcceptHandoff(Ctx* ctx, const v1::AcceptHandoffRequest* req,
                                       v1::AcceptHandoffResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(handoff::RequireUuid(req->handoff_id(), "handoff_id"));
  ASSIGN_OR_RETURN_GRPC(*resp, call->inbox->Accept(req->handoff_id(), CallerOf(call.principal()),
                                                   call.actor(), call.KeyOf(*req), absl::Now()));
  return Status::OK;
}

Status SalesServiceImpl::RejectHandoff(Ctx* ctx, const v1::RejectHandoffRequest* req,
                                       v1::Handoff* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(handoff::RequireUuid(req->handoff_id(), "handoff_id"));
  RETURN_IF_ERROR_GRPC(
      RequireEnum(req->reason(), handoff::v1::RejectionReason_IsValid, "reason", false));
  RETURN_IF_ERROR_GRPC(RequireText(req->note(), "note", 2000, false));
  ASSIGN_OR_RETURN_GRPC(
      *resp, call->inbox->Reject(req->handoff_id(), req->reason(), req->note(),
                                 CallerOf(call.principal()), call.KeyOf(*req), absl::Now()));
  return Status::OK;
}

Status SalesServiceImpl::CreateRoutingRule(Ctx* ctx, const v1::CreateRoutingRuleRequest* req,
                                           v1::RoutingRule* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  FieldViolations v;
  CheckRule(req->rule(), "rule", v);
  RETURN_IF_ERROR_GRPC(v.status());
  ASSIGN_OR_RETURN_GRPC(*resp, call->routing->Create(req->rule(), call.KeyOf(*req)));
  return Status::OK;
}

Status SalesServiceImpl::ListRoutingRules(Ctx* ctx, const v1::ListRoutingRulesRequest* req,
                                          v1::ListRoutingRulesResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  ASSIGN_OR_RETURN_GRPC(*resp, call->routing->List());
  return Status::OK;
}

Status SalesServiceImpl::UpdateRoutingRule(Ctx* ctx, const v1::UpdateRoutingRuleRequest* req,
                                           v1::RoutingRule* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->rule().rule_id(), "rule.rule_id"));
  ASSIGN_OR_RETURN_GRPC(
      std::vector<std::string> paths,
      MaskPaths(req->update_mask(),
                {"name", "match", "team_manager_rep_id", "pool", "escalation", "max_escalations"},
                /*required=*/true));
  // The rule as it will be is checked whole in the store.
  ASSIGN_OR_RETURN_GRPC(*resp, call->routing->Update(req->rule(), paths, call.KeyOf(*req)));
  return Status::OK;
}

Status SalesServiceImpl::DeleteRoutingRule(Ctx* ctx, const v1::DeleteRoutingRuleRequest* req,
                                           v1::DeleteRoutingRuleResponse*) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->rule_id(), "rule_id"));
  RETURN_IF_ERROR_GRPC(call->routing->Delete(req->rule_id(), req->etag()));
  return Status::OK;
}

Status SalesServiceImpl::ReorderRoutingRules(Ctx* ctx, const v1::ReorderRoutingRulesRequest* req,
                                             v1::ListRoutingRulesResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  ASSIGN_OR_RETURN_GRPC(*resp,
                        call->routing->Reorder({req->rule_ids().begin(), req->rule_ids().end()}));
  return Status::OK;
}

Status SalesServiceImpl::CreateAccount(Ctx* ctx, const v1::CreateAccountRequest* req,
                                       v1::Account* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  v1::Account a = req->account();
  a.set_name(CleanAccountName(a.name()));  // "  Hopper  Inc " is "Hopper Inc"
  FieldViolations v;
  v.Check(RequireText(a.name(), "account.name", 200, true));
  v.Check(RequireText(a.industry(), "account.industry", 100, false));
  v.Check(RequireText(a.region(), "account.region", 100, false));
  if (a.company_size() < 0) v.Add("account.company_size", "must not be negative");
  RETURN_IF_ERROR_GRPC(v.status());
  ASSIGN_OR_RETURN_GRPC(*resp, call->directory->CreateAccount(a, call.KeyOf(*req)));
  return Status::OK;
}

Status SalesServiceImpl::GetAccount(Ctx* ctx, const v1::GetAccountRequest* req, v1::Account* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->account_id(), "account_id"));
  ASSIGN_OR_RETURN_GRPC(*resp, call->directory->GetAccount(req->account_id()));
  return Status::OK;
}

Status SalesServiceImpl::ListAccounts(Ctx* ctx, const v1::ListAccountsRequest* req,
                                      v1::ListAccountsResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  ASSIGN_OR_RETURN_GRPC(int page_size, PageSize(req->page_size()));
  ASSIGN_OR_RETURN_GRPC(*resp, call->directory->ListAccounts(page_size, req->page_token()));
  return Status::OK;
}

namespace {

constexpr int kMaxMergedRecords = 20;

}  // namespace

Status SalesServiceImpl::MergeAccounts(Ctx* ctx, const v1::MergeAccountsRequest* req,
                                       v1::Account* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  const std::vector<int64_t> duplicates(req->duplicate_account_ids().begin(),
                                        req->duplicate_account_ids().end());
  RETURN_IF_ERROR_GRPC(common::ValidateMergeIds(req->survivor_account_id(), duplicates,
                                                kMaxMergedRecords, "survivor_account_id",
                                                "duplicate_account_ids"));
  ASSIGN_OR_RETURN_GRPC(*resp, call->directory->MergeAccounts(req->survivor_account_id(),
                                                              duplicates, call.KeyOf(*req)));
  return Status::OK;
}

Status SalesServiceImpl::MergeContacts(Ctx* ctx, const v1::MergeContactsRequest* req,
                                       v1::Contact* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  const std::vector<int64_t> duplicates(req->duplicate_contact_ids().begin(),
                                        req->duplicate_contact_ids().end());
  RETURN_IF_ERROR_GRPC(common::ValidateMergeIds(req->survivor_contact_id(), duplicates,
                                                kMaxMergedRecords, "survivor_contact_id",
                                                "duplicate_contact_ids"));
  ASSIGN_OR_RETURN_GRPC(*resp, call->directory->MergeContacts(req->survivor_contact_id(),
                                                              duplicates, call.KeyOf(*req)));
  return Status::OK;
}

Status SalesServiceImpl::CreateContact(Ctx* ctx, const v1::CreateContactRequest* req,
                                       v1::Contact* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  v1::Contact c = req->contact();
  FieldViolations v;
  if (auto email = v.Take(handoff::NormalizeEmail(c.email(), "contact.email"))) {
    c.set_email(*email);
  }
  v.Check(RequireNonNegativeId(c.account_id(), "contact.account_id"));
  v.Check(RequireText(c.first_name(), "contact.first_name", 200, false));
  v.Check(RequireText(c.last_name(), "contact.last_name", 200, false));
  v.Check(RequireText(c.title(), "contact.title", 200, false));
  v.Check(RequireText(c.phone(), "contact.phone", 64, false));
  RETURN_IF_ERROR_GRPC(v.status());
  ASSIGN_OR_RETURN_GRPC(*resp, call->directory->CreateContact(c, call.KeyOf(*req)));
  return Status::OK;
}

Status SalesServiceImpl::GetContact(Ctx* ctx, const v1::GetContactRequest* req, v1::Contact* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->contact_id(), "contact_id"));
  ASSIGN_OR_RETURN_GRPC(*resp, call->directory->GetContact(req->contact_id()));
  return Status::OK;
}

Status SalesServiceImpl::ListContacts(Ctx* ctx, const v1::ListContactsRequest* req,
                                      v1::ListContactsResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  ASSIGN_OR_RETURN_GRPC(int page_size, PageSize(req->page_size()));
  RETURN_IF_ERROR_GRPC(RequireNonNegativeId(req->account_id(), "account_id"));
  ASSIGN_OR_RETURN_GRPC(
      *resp, call->directory->ListContacts(req->account_id(), page_size, req->page_token()));
  return Status::OK;
}

Status SalesServiceImpl::CreateOpportunity(Ctx* ctx, const v1::CreateOpportunityRequest* req,
                                           v1::Opportunity* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  const v1::Opportunity& o = req->opportunity();
  FieldViolations v;
  v.Check(RequireText(o.name(), "opportunity.name", 200, true));
  v.Check(RequirePositiveId(o.account_id(), "opportunity.account_id"));
  v.Check(RequireNonNegativeId(o.contact_id(), "opportunity.contact_id"));
  v.Check(RequireNonNegativeId(o.owner_rep_id(), "opportunity.owner_rep_id"));
  if (o.source() != v1::SOURCE_SALES_PROSPECTING && o.source() != v1::SOURCE_REFERRAL &&
      o.source() != v1::SOURCE_UPSELL) {
    v.Add("opportunity.source",
          "must be SALES_PROSPECTING, REFERRAL or UPSELL (MARKETING comes from AcceptHandoff)");
  }
  v.Check(handoff::ValidateMoney(o.amount(), "opportunity.amount"));
  v.Check(ValidateDate(o.expected_close_date(), "opportunity.expected_close_date"));
  v.Check(RequireText(o.next_step(), "opportunity.next_step", 2000, false));
  if (o.has_probability_override() &&
      (o.probability_override() < 0 || o.probability_override() > 100)) {
    v.Add("opportunity.probability_override", "0 to 100");
  }
  RETURN_IF_ERROR_GRPC(v.status());
  ASSIGN_OR_RETURN_GRPC(*resp,
                        call->opportunities->Create(o, CallerOf(call.principal()), call.actor(),
                                                    call.KeyOf(*req), absl::Now()));
  return Status::OK;
}

Status SalesServiceImpl::GetOpportunity(Ctx* ctx, const v1::GetOpportunityRequest* req,
                                        v1::Opportunity* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->opportunity_id(), "opportunity_id"));
  ASSIGN_OR_RETURN_GRPC(*resp, call->opportunities->Get(req->opportunity_id()));
  return Status::OK;
}

Status SalesServiceImpl::ListOpportunities(Ctx* ctx, const v1::ListOpportunitiesRequest* req,
                                           v1::ListOpportunitiesResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  ASSIGN_OR_RETURN_GRPC(int page_size, PageSize(req->page_size()));
  RETURN_IF_ERROR_GRPC(RequireNonNegativeId(req->owner_rep_id(), "owner_rep_id"));
  RETURN_IF_ERROR_GRPC(RequireEnum(req->stage(), v1::Stage_IsValid, "stage", true));
  RETURN_IF_ERROR_GRPC(RequireEnum(req->status(), v1::OpportunityStatus_IsValid, "status", true));
  RETURN_IF_ERROR_GRPC(RequireEnum(req->source(), v1::Source_IsValid, "source", true));
  OpportunityFilter filter{req->owner_rep_id(), req->stage(), req->status(), req->source()};
  ASSIGN_OR_RETURN_GRPC(*resp, call->opportunities->List(filter, page_size, req->page_token()));
  return Status::OK;
}

Status SalesServiceImpl::UpdateOpportunity(Ctx* ctx, const v1::UpdateOpportunityRequest* req,
                                           v1::Opportunity* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  const v1::Opportunity& o = req->opportunity();
  RETURN_IF_ERROR_GRPC(RequirePositiveId(o.opportunity_id(), "opportunity.opportunity_id"));
  ASSIGN_OR_RETURN_GRPC(std::vector<std::string> paths,
                        MaskPaths(req->update_mask(),
                                  {"name", "amount", "expected_close_date", "next_step",
                                   "probability_override", "contact_id", "owner_rep_id"},
                                  /*required=*/true));
  FieldViolations v;
  for (const std::string& p : paths) {
    if (p == "name") v.Check(RequireText(o.name(), "opportunity.name", 200, true));
    if (p == "amount") v.Check(handoff::ValidateMoney(o.amount(), "opportunity.amount"));
    if (p == "expected_close_date") {
      v.Check(ValidateDate(o.expected_close_date(), "opportunity.expected_close_date"));
    }
    if (p == "next_step") v.Check(RequireText(o.next_step(), "opportunity.next_step", 2000, false));
    if (p == "probability_override" && o.has_probability_override() &&
        (o.probability_override() < 0 || o.probability_override() > 100)) {
      v.Add("opportunity.probability_override", "0 to 100");
    }
    if (p == "owner_rep_id") {
      v.Check(RequirePositiveId(o.owner_rep_id(), "opportunity.owner_rep_id"));
    }
  }
  RETURN_IF_ERROR_GRPC(v.status());
  ASSIGN_OR_RETURN_GRPC(*resp, call->opportunities->Update(o, paths, CallerOf(call.principal()),
                                                           call.KeyOf(*req), absl::Now()));
  return Status::OK;
}

Status SalesServiceImpl::MoveOpportunityStage(Ctx* ctx, const v1::MoveOpportunityStageRequest* req,
                                              v1::Opportunity* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->opportunity_id(), "opportunity_id"));
  RETURN_IF_ERROR_GRPC(RequireEnum(req->stage(), v1::Stage_IsValid, "stage", false));
  ASSIGN_OR_RETURN_GRPC(
      *resp, call->opportunities->MoveStage(req->opportunity_id(), req->stage(), req->etag(),
                                            CallerOf(call.principal()), call.actor(),
                                            call.KeyOf(*req), absl::Now()));
  return Status::OK;
}

Status SalesServiceImpl::ListStageChanges(Ctx* ctx, const v1::ListStageChangesRequest* req,
                                          v1::ListStageChangesResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->opportunity_id(), "opportunity_id"));
  ASSIGN_OR_RETURN_GRPC(int page_size, PageSize(req->page_size()));
  ASSIGN_OR_RETURN_GRPC(*resp, call->opportunities->ListStageChanges(req->opportunity_id(),
                                                                     page_size, req->page_token()));
  return Status::OK;
}

Status SalesServiceImpl::AddObjection(Ctx* ctx, const v1::AddObjectionRequest* req,
                                      v1::Objection* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->opportunity_id(), "opportunity_id"));
  RETURN_IF_ERROR_GRPC(RequireText(req->text(), "text", 2000, true));
  ASSIGN_OR_RETURN_GRPC(*resp, call->opportunities->AddObjection(
                                   req->opportunity_id(), req->text(), CallerOf(call.principal()),
                                   call.actor(), call.KeyOf(*req), absl::Now()));
  return Status::OK;
}

Status SalesServiceImpl::ResolveObjection(Ctx* ctx, const v1::ResolveObjectionRequest* req,
                                          v1::Objection* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->objection_id(), "objection_id"));
  RETURN_IF_ERROR_GRPC(RequireText(req->resolution(), "resolution", 2000, true));
  ASSIGN_OR_RETURN_GRPC(*resp, call->opportunities->ResolveObjection(
                                   req->objection_id(), req->resolution(),
                                   CallerOf(call.principal()), call.KeyOf(*req), absl::Now()));
  return Status::OK;
}

Status SalesServiceImpl::ListObjections(Ctx* ctx, const v1::ListObjectionsRequest* req,
                                        v1::ListObjectionsResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->opportunity_id(), "opportunity_id"));
  ASSIGN_OR_RETURN_GRPC(int page_size, PageSize(req->page_size()));
  ASSIGN_OR_RETURN_GRPC(*resp, call->opportunities->ListObjections(req->opportunity_id(), page_size,
                                                                   req->page_token()));
  return Status::OK;
}

Status SalesServiceImpl::CloseOpportunity(Ctx* ctx, const v1::CloseOpportunityRequest* req,
                                          v1::Opportunity* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  FieldViolations v;
  v.Check(RequirePositiveId(req->opportunity_id(), "opportunity_id"));
  if (req->outcome() == handoff::v1::OUTCOME_WON) {
    if (req->amount().currency_code().empty()) {
      v.Add("amount", "required when WON");
    } else {
      v.Check(handoff::ValidateMoney(req->amount(), "amount"));
    }
  } else if (req->outcome() == handoff::v1::OUTCOME_LOST) {
    v.Check(RequireEnum(req->loss_reason(), handoff::v1::LossReason_IsValid, "loss_reason", false));
    v.Check(RequireText(req->loss_note(), "loss_note", 2000, false));
  } else {
    v.Add("outcome", "must be OUTCOME_WON or OUTCOME_LOST");
  }
  RETURN_IF_ERROR_GRPC(v.status());
  ASSIGN_OR_RETURN_GRPC(
      *resp, call->opportunities->Close(*req, CallerOf(call.principal()), call.actor(), absl::Now(),
                                        call.KeyOf(*req)));
  return Status::OK;
}

Status SalesServiceImpl::LogActivity(Ctx* ctx, const v1::LogActivityRequest* req,
                                     v1::Activity* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  const v1::Activity& a = req->activity();
  FieldViolations v;
  v.Check(RequireEnum(a.type(), v1::ActivityType_IsValid, "activity.type", false));
  if (a.opportunity_id() == 0 && a.handoff_id().empty() && a.contact_id() == 0) {
    v.Add("activity", "link it to an opportunity_id, a handoff_id or a contact_id");
  }
  v.Check(RequireNonNegativeId(a.opportunity_id(), "activity.opportunity_id"));
  v.Check(RequireNonNegativeId(a.contact_id(), "activity.contact_id"));
  v.Check(RequireNonNegativeId(a.rep_id(), "activity.rep_id"));
  if (!a.handoff_id().empty()) v.Check(handoff::RequireUuid(a.handoff_id(), "handoff_id"));
  if (a.has_occur_time()) {
    v.Check(common::RequireStorableTime(a.occur_time(), "activity.occur_time"));
  }
  v.Check(RequireText(a.outcome(), "activity.outcome", 2000, false));
  v.Check(RequireText(a.notes(), "activity.notes", 60000, false));
  RETURN_IF_ERROR_GRPC(v.status());
  ASSIGN_OR_RETURN_GRPC(*resp, call->opportunities->LogActivity(a, CallerOf(call.principal()),
                                                                call.KeyOf(*req), absl::Now()));
  return Status::OK;
}

Status SalesServiceImpl::ListActivities(Ctx* ctx, const v1::ListActivitiesRequest* req,
                                        v1::ListActivitiesResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  ASSIGN_OR_RETURN_GRPC(int page_size, PageSize(req->page_size()));
  ASSIGN_OR_RETURN_GRPC(*resp, call->opportunities->ListActivities(*req, page_size));
  return Status::OK;
}

Status SalesServiceImpl::SetQuota(Ctx* ctx, const v1::SetQuotaRequest* req, v1::Quota* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  const v1::Quota& q = req->quota();
  FieldViolations v;
  v.Check(RequirePositiveId(q.rep_id(), "quota.rep_id"));
  v.Check(ParseQuarter(q.quarter(), "quota.quarter").status());
  if (q.revenue_target().currency_code().empty()) {
    v.Add("quota.revenue_target", "required");
  } else {
    v.Check(handoff::ValidateMoney(q.revenue_target(), "quota.revenue_target"));
  }
  if (q.call_target() < 0) v.Add("quota.call_target", "must not be negative");
  if (q.meeting_target() < 0) v.Add("quota.meeting_target", "must not be negative");
  RETURN_IF_ERROR_GRPC(v.status());
  ASSIGN_OR_RETURN_GRPC(*resp,
                        call->reports->SetQuota(q, CallerOf(call.principal()), call.KeyOf(*req)));
  return Status::OK;
}

Status SalesServiceImpl::GetRepPerformance(Ctx* ctx, const v1::GetRepPerformanceRequest* req,
                                           v1::RepPerformance* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->rep_id(), "rep_id"));
  ASSIGN_OR_RETURN_GRPC(Quarter quarter, ParseQuarter(req->quarter(), "quarter"));
  ASSIGN_OR_RETURN_GRPC(*resp, call->reports->RepPerformance(req->rep_id(), req->quarter(), quarter,
                                                             CallerOf(call.principal())));
  return Status::OK;
}

Status SalesServiceImpl::GetPipelineReport(Ctx* ctx, const v1::GetPipelineReportRequest* req,
                                           v1::PipelineReport* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequireNonNegativeId(req->rep_id(), "rep_id"));
  RETURN_IF_ERROR_GRPC(RequireNonNegativeId(req->manager_rep_id(), "manager_rep_id"));
  ASSIGN_OR_RETURN_GRPC(*resp,
                        call->reports->Pipeline(req->rep_id(), req->manager_rep_id(), absl::Now()));
  return Status::OK;
}

Status SalesServiceImpl::GetFunnelStats(Ctx* ctx, const v1::GetFunnelStatsRequest* req,
                                        v1::FunnelStats* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(RequireNonNegativeId(req->campaign_id(), "campaign_id"));
  ASSIGN_OR_RETURN_GRPC(common::TimeRange range,
                        common::ReportRange(req->has_start_time(), req->start_time(),
                                            req->has_end_time(), req->end_time(), absl::Now()));
  std::optional<std::vector<int64_t>> lead_ids;
  if (req->restrict_to_leads()) lead_ids.emplace(req->lead_ids().begin(), req->lead_ids().end());
  ASSIGN_OR_RETURN_GRPC(
      *resp, call->reports->FunnelStats(range.start, range.end, req->campaign_id(), lead_ids));
  return Status::OK;
}

grpc::ServerWriteReactor<feed::v1::ChangeEvent>* SalesServiceImpl::WatchEvents(
    grpc::CallbackServerContext* ctx, const feed::v1::WatchEventsRequest* req) {
  absl::StatusOr<Call> call = gate_.Admit(*ctx, *req);
  return feed::ServeWatch(call.ok() ? absl::StatusOr<feed::FeedHub*>((*call)->feed) : call.status(),
                          ctx, *req);
}

Status SalesServiceImpl::GetRelayStats(Ctx* ctx, const v1::GetRelayStatsRequest* req,
                                       handoff::v1::RelayStats* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  ASSIGN_OR_RETURN_GRPC(*resp, call->reports->RelayStats(absl::Now()));
  return Status::OK;
}

Status HandoffInboxServiceImpl::SubmitLead(grpc::ServerContext* ctx,
                                           const handoff::v1::LeadHandoff* req,
                                           handoff::v1::SubmitLeadResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(handoff::RequireUuid(req->handoff_id(), "handoff_id"));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->lead_id(), "lead_id"));
  ASSIGN_OR_RETURN_GRPC(*resp, call->inbox->Submit(*req, absl::Now()));
  return Status::OK;
}

Status HandoffInboxServiceImpl::EraseLead(grpc::ServerContext* ctx,
                                          const handoff::v1::LeadErasure* req,
                                          handoff::v1::EraseLeadResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(handoff::RequireUuid(req->event_id(), "event_id"));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->lead_id(), "lead_id"));
  ASSIGN_OR_RETURN_GRPC(*resp, call->inbox->Erase(*req));
  return Status::OK;
}

Status HandoffInboxServiceImpl::UpdateConsent(grpc::ServerContext* ctx,
                                              const handoff::v1::ConsentChange* req,
                                              handoff::v1::UpdateConsentResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  RETURN_IF_ERROR_GRPC(handoff::RequireUuid(req->event_id(), "event_id"));
  RETURN_IF_ERROR_GRPC(RequirePositiveId(req->lead_id(), "lead_id"));
  if (req->consent() != handoff::v1::CONSENT_STATUS_OPTED_IN &&
      req->consent() != handoff::v1::CONSENT_STATUS_OPTED_OUT) {
    return ToGrpcStatus(absl::InvalidArgumentError(
        "consent: must be CONSENT_STATUS_OPTED_IN or CONSENT_STATUS_OPTED_OUT"));
  }
  RETURN_IF_ERROR_GRPC(RequireText(req->source(), "source", 200, false));
  if (req->has_change_time()) {
    RETURN_IF_ERROR_GRPC(common::RequireStorableTime(req->change_time(), "change_time"));
  }
  ASSIGN_OR_RETURN_GRPC(*resp, call->inbox->UpdateConsent(*req, absl::Now()));
  return Status::OK;
}

Status HandoffInboxServiceImpl::MergeLead(grpc::ServerContext* ctx,
                                          const handoff::v1::LeadMerged* req,
                                          handoff::v1::MergeLeadResponse* resp) {
  ASSIGN_OR_RETURN_GRPC(const Call call, gate_.Admit(*ctx, *req));
  FieldViolations v;
  v.Check(handoff::RequireUuid(req->event_id(), "event_id"));
  v.Check(RequirePositiveId(req->survivor_lead_id(), "survivor_lead_id"));
  if (req->merged_lead_ids().empty() || req->merged_lead_ids_size() > 100) {
    v.Add("merged_lead_ids", "1 to 100 ids");
  }
  for (int64_t id : req->merged_lead_ids()) {
    if (id <= 0 || id == req->survivor_lead_id()) {
      v.Add("merged_lead_ids", "each positive and not the survivor");
      break;
    }
  }
  RETURN_IF_ERROR_GRPC(v.status());
  ASSIGN_OR_RETURN_GRPC(*resp, call->inbox->MergeLead(*req, absl::Now()));
  return Status::OK;
}

}  // namespace funnel::sales
