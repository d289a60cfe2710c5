// SalesService and HandoffInboxService through a real gRPC server: bad input for
// every method gets a clear error naming the field and changes nothing.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "tests/sales/sales_fixture.h"

namespace funnel::sales {
namespace {

using ::testing::HasSubstr;
using SalesServiceTest = SalesFixture;
using S = v1::SalesService::Stub;

struct BadCase {
  const char* name;
  std::function<grpc::Status(S&)> call;
  grpc::StatusCode code;
  const char* message;
};

template <typename Req, typename Resp>
std::function<grpc::Status(S&)> Unary(grpc::Status (S::*method)(grpc::ClientContext*, const Req&,
                                                                Resp*),
                                      Req request) {
  return [method, request](S& stub) {
    grpc::ClientContext ctx;
    Resp response;
    return (stub.*method)(&ctx, request, &response);
  };
}

template <typename Req>
Req Make(const std::function<void(Req&)>& fill) {
  Req r;
  fill(r);
  return r;
}

TEST_F(SalesServiceTest, BadInputForEveryMethodNamesTheFieldAndChangesNothing) {
  using grpc::StatusCode;
  const std::string unknown_handoff = "00000000-0000-4000-8000-000000000000";
  const std::vector<BadCase> cases = {
      {"CreateRep name", Unary(&S::CreateRep, Make<v1::CreateRepRequest>([](auto& r) {
         r.mutable_rep()->set_email("a@b.co");
       })),
       StatusCode::INVALID_ARGUMENT, "rep.name"},
      {"CreateRep email", Unary(&S::CreateRep, Make<v1::CreateRepRequest>([](auto& r) {
         r.mutable_rep()->set_name("A");
         r.mutable_rep()->set_email("nope");
       })),
       StatusCode::INVALID_ARGUMENT, "rep.email"},
      {"CreateRep role", Unary(&S::CreateRep, Make<v1::CreateRepRequest>([](auto& r) {
         r.mutable_rep()->set_name("A");
         r.mutable_rep()->set_email("a@b.co");
       })),
       StatusCode::INVALID_ARGUMENT, "rep.role"},
      {"CreateRep manager", Unary(&S::CreateRep, Make<v1::CreateRepRequest>([](auto& r) {
         r.mutable_rep()->set_name("A");
         r.mutable_rep()->set_email("a@b.co");
         r.mutable_rep()->set_role(v1::REP_ROLE_REP);
         r.mutable_rep()->set_manager_rep_id(99);
       })),
       StatusCode::NOT_FOUND, "rep.manager_rep_id"},
      {"GetRep", Unary(&S::GetRep, v1::GetRepRequest()), StatusCode::INVALID_ARGUMENT, "rep_id"},
      {"ListReps",
       Unary(&S::ListReps, Make<v1::ListRepsRequest>([](auto& r) { r.set_page_token("x"); })),
       StatusCode::INVALID_ARGUMENT, "page_token"},
      {"ListHandoffs", Unary(&S::ListHandoffs, Make<v1::ListHandoffsRequest>([](auto& r) {
         r.set_state(static_cast<v1::HandoffState>(9));
       })),
       StatusCode::INVALID_ARGUMENT, "state"},
      {"GetHandoff", Unary(&S::GetHandoff, Make<v1::GetHandoffRequest>([](auto& r) {
         r.set_handoff_id("short");
       })),
       StatusCode::INVALID_ARGUMENT, "handoff_id"},
      {"GetHandoff unknown", Unary(&S::GetHandoff, Make<v1::GetHandoffRequest>([&](auto& r) {
         r.set_handoff_id(unknown_handoff);
       })),
       StatusCode::NOT_FOUND, "handoff"},
      {"AssignHandoff", Unary(&S::AssignHandoff, Make<v1::AssignHandoffRequest>([&](auto& r) {
         r.set_handoff_id(unknown_handoff);
       })),
       StatusCode::INVALID_ARGUMENT, "rep_id"},
      {"AcceptHandoff", Unary(&S::AcceptHandoff, Make<v1::AcceptHandoffRequest>([&](auto& r) {
         r.set_handoff_id(unknown_handoff);
       })),
       StatusCode::NOT_FOUND, "handoff"},
      {"RejectHandoff", Unary(&S::RejectHandoff, Make<v1::RejectHandoffRequest>([&](auto& r) {
         r.set_handoff_id(unknown_handoff);
       })),
       StatusCode::INVALID_ARGUMENT, "reason"},
      {"CreateAccount", Unary(&S::CreateAccount, v1::CreateAccountRequest()),
       StatusCode::INVALID_ARGUMENT, "account.name"},
      {"GetAccount",
       Unary(&S::GetAccount, Make<v1::GetAccountRequest>([](auto& r) { r.set_account_id(5); })),
       StatusCode::NOT_FOUND, "account 5"},
      {"ListAccounts",
       Unary(&S::ListAccounts, Make<v1::ListAccountsRequest>([](auto& r) { r.set_page_size(-1); })),
       StatusCode::INVALID_ARGUMENT, "page_size"},
      {"CreateContact", Unary(&S::CreateContact, Make<v1::CreateContactRequest>([](auto& r) {
         r.mutable_contact()->set_email("bad");
       })),
       StatusCode::INVALID_ARGUMENT, "contact.email"},
      {"CreateContact account",
       Unary(&S::CreateContact, Make<v1::CreateContactRequest>([](auto& r) {
         r.mutable_contact()->set_email("c@d.co");
         r.mutable_contact()->set_account_id(3);
       })),
       StatusCode::NOT_FOUND, "contact.account_id"},
      {"GetContact", Unary(&S::GetContact, v1::GetContactRequest()), StatusCode::INVALID_ARGUMENT,
       "contact_id"},
      {"ListContacts", Unary(&S::ListContacts, Make<v1::ListContactsRequest>([](auto& r) {
         r.set_account_id(-2);
       })),
       StatusCode::INVALID_ARGUMENT, "account_id"},
      {"CreateOpportunity source",
       Unary(&S::CreateOpportunity, Make<v1::CreateOpportunityRequest>([](auto& r) {
         r.mutable_opportunity()->set_name("x");
         r.mutable_opportunity()->set_account_id(1);
         r.mutable_opportunity()->set_source(v1::SOURCE_MARKETING);
       })),
       StatusCode::INVALID_ARGUMENT, "opportunity.source"},
      {"CreateOpportunity amount",
       Unary(&S::CreateOpportunity, Make<v1::CreateOpportunityRequest>([](auto& r) {
         r.mutable_opportunity()->set_name("x");
         r.mutable_opportunity()->set_account_id(1);
         r.mutable_opportunity()->set_source(v1::SOURCE_UPSELL);
         r.mutable_opportunity()->mutable_amount()->set_currency_code("USD");
         r.mutable_opportunity()->mutable_amount()->set_amount_minor(INT64_MAX);
       })),
       StatusCode::INVALID_ARGUMENT, "opportunity.amount.amount_minor"},
      {"CreateOpportunity date",
       Unary(&S::CreateOpportunity, Make<v1::CreateOpportunityRequest>([](auto& r) {
         r.mutable_opportunity()->set_name("x");
         r.mutable_opportunity()->set_account_id(1);
         r.mutable_opportunity()->set_source(v1::SOURCE_UPSELL);
         r.mutable_opportunity()->set_expected_close_date("2026-13-40");
       })),
       StatusCode::INVALID_ARGUMENT, "expected_close_date"},
      {"GetOpportunity", Unary(&S::GetOpportunity, Make<v1::GetOpportunityRequest>([](auto& r) {
         r.set_opportunity_id(8);
       })),
       StatusCode::NOT_FOUND, "opportunity 8"},
      {"ListOpportunities",
       Unary(&S::ListOpportunities, Make<v1::ListOpportunitiesRequest>([](auto& r) {
         r.set_status(static_cast<v1::OpportunityStatus>(7));
       })),
       StatusCode::INVALID_ARGUMENT, "status"},
      {"UpdateOpportunity mask",
       Unary(&S::UpdateOpportunity, Make<v1::UpdateOpportunityRequest>([](auto& r) {
         r.mutable_opportunity()->set_opportunity_id(1);
         r.mutable_update_mask()->add_paths("stage");
       })),
       StatusCode::INVALID_ARGUMENT, "update_mask: stage"},
      {"UpdateOpportunity money",
       Unary(&S::UpdateOpportunity, Make<v1::UpdateOpportunityRequest>([](auto& r) {
         r.mutable_opportunity()->set_opportunity_id(1);
         r.mutable_update_mask()->add_paths("amount");
         r.mutable_opportunity()->mutable_amount()->set_amount_minor(-5);
       })),
       StatusCode::INVALID_ARGUMENT, "opportunity.amount"},
      {"MoveOpportunityStage",
       Unary(&S::MoveOpportunityStage,
             Make<v1::MoveOpportunityStageRequest>([](auto& r) { r.set_opportunity_id(1); })),
       StatusCode::INVALID_ARGUMENT, "stage"},
      {"ListStageChanges",
       Unary(&S::ListStageChanges,
             Make<v1::ListStageChangesRequest>([](auto& r) { r.set_opportunity_id(4); })),
       StatusCode::NOT_FOUND, "opportunity 4"},
      {"AddObjection", Unary(&S::AddObjection, Make<v1::AddObjectionRequest>([](auto& r) {
         r.set_opportunity_id(1);
       })),
       StatusCode::INVALID_ARGUMENT, "text"},
      {"ResolveObjection",
       Unary(&S::ResolveObjection, Make<v1::ResolveObjectionRequest>([](auto& r) {
         r.set_objection_id(1);
         r.set_resolution("ok");
       })),
       StatusCode::NOT_FOUND, "objection 1"},
      {"ListObjections", Unary(&S::ListObjections, v1::ListObjectionsRequest()),
       StatusCode::INVALID_ARGUMENT, "opportunity_id"},
      {"CloseOpportunity won",
       Unary(&S::CloseOpportunity, Make<v1::CloseOpportunityRequest>([](auto& r) {
         r.set_opportunity_id(1);
         r.set_outcome(handoff::v1::OUTCOME_WON);
       })),
       StatusCode::INVALID_ARGUMENT, "amount"},
      {"CloseOpportunity lost",
       Unary(&S::CloseOpportunity, Make<v1::CloseOpportunityRequest>([](auto& r) {
         r.set_opportunity_id(1);
         r.set_outcome(handoff::v1::OUTCOME_LOST);
       })),
       StatusCode::INVALID_ARGUMENT, "loss_reason"},
      {"LogActivity link", Unary(&S::LogActivity, Make<v1::LogActivityRequest>([](auto& r) {
         r.mutable_activity()->set_type(v1::ACTIVITY_TYPE_CALL);
       })),
       StatusCode::INVALID_ARGUMENT, "activity"},
      {"LogActivity type", Unary(&S::LogActivity, Make<v1::LogActivityRequest>([](auto& r) {
         r.mutable_activity()->set_opportunity_id(1);
       })),
       StatusCode::INVALID_ARGUMENT, "activity.type"},
      {"LogActivity 2100", Unary(&S::LogActivity, Make<v1::LogActivityRequest>([](auto& r) {
         r.mutable_activity()->set_opportunity_id(1);
         r.mutable_activity()->set_type(v1::ACTIVITY_TYPE_CALL);
         r.mutable_activity()->mutable_occur_time()->set_seconds(4102444800);
       })),
       StatusCode::INVALID_ARGUMENT, "activity.occur_time"},
      {"ListActivities", Unary(&S::ListActivities, Make<v1::ListActivitiesRequest>([](auto& r) {
         r.set_page_token("zzz");
       })),
       StatusCode::INVALID_ARGUMENT, "page_token"},
      {"SetQuota quarter", Unary(&S::SetQuota, Make<v1::SetQuotaRequest>([](auto& r) {
         r.mutable_quota()->set_rep_id(1);
         r.mutable_quota()->set_quarter("Q4");
       })),
       StatusCode::INVALID_ARGUMENT, "quota.quarter"},
      {"SetQuota rep", Unary(&S::SetQuota, Make<v1::SetQuotaRequest>([](auto& r) {
         r.mutable_quota()->set_rep_id(6);
         r.mutable_quota()->set_quarter("2026-Q4");
         r.mutable_quota()->mutable_revenue_target()->set_currency_code("USD");
       })),
       StatusCode::NOT_FOUND, "quota.rep_id"},
      {"GetRepPerformance",
       Unary(&S::GetRepPerformance, Make<v1::GetRepPerformanceRequest>([](auto& r) {
         r.set_rep_id(1);
         r.set_quarter("2026-Q9");
       })),
       StatusCode::INVALID_ARGUMENT, "quarter"},
      {"GetPipelineReport",
       Unary(&S::GetPipelineReport,
             Make<v1::GetPipelineReportRequest>([](auto& r) { r.set_rep_id(77); })),
       StatusCode::NOT_FOUND, "rep_id"},
      {"UpdateRep mask", Unary(&S::UpdateRep, Make<v1::UpdateRepRequest>([](auto& r) {
         r.mutable_rep()->set_rep_id(1);
         r.mutable_update_mask()->add_paths("email");
       })),
       StatusCode::INVALID_ARGUMENT, "update_mask"},
      {"UpdateRep capacity", Unary(&S::UpdateRep, Make<v1::UpdateRepRequest>([](auto& r) {
         r.mutable_rep()->set_rep_id(1);
         r.mutable_rep()->set_handoff_capacity(-1);
         r.mutable_update_mask()->add_paths("handoff_capacity");
       })),
       StatusCode::INVALID_ARGUMENT, "rep.handoff_capacity"},
      {"UpdateRep unknown", Unary(&S::UpdateRep, Make<v1::UpdateRepRequest>([](auto& r) {
         r.mutable_rep()->set_rep_id(55);
         r.mutable_update_mask()->add_paths("away");
       })),
       StatusCode::NOT_FOUND, "rep 55"},
      {"CreateRoutingRule target",
       Unary(&S::CreateRoutingRule, Make<v1::CreateRoutingRuleRequest>(
                                        [](auto& r) { r.mutable_rule()->set_name("nobody"); })),
       StatusCode::INVALID_ARGUMENT, "rule.pool"},
      {"CreateRoutingRule rep",
       Unary(&S::CreateRoutingRule, Make<v1::CreateRoutingRuleRequest>([](auto& r) {
         r.mutable_rule()->set_name("ghost");
         r.mutable_rule()->add_pool()->set_rep_id(12);
       })),
       StatusCode::NOT_FOUND, "rule.pool[0].rep_id"},
      {"CreateRoutingRule team",
       Unary(&S::CreateRoutingRule, Make<v1::CreateRoutingRuleRequest>([](auto& r) {
         r.mutable_rule()->set_name("ghost team");
         r.mutable_rule()->set_team_manager_rep_id(12);
       })),
       StatusCode::NOT_FOUND, "rule.team_manager_rep_id"},
      {"UpdateRoutingRule",
       Unary(&S::UpdateRoutingRule, Make<v1::UpdateRoutingRuleRequest>([](auto& r) {
         r.mutable_rule()->set_rule_id(3);
         r.mutable_update_mask()->add_paths("name");
       })),
       StatusCode::NOT_FOUND, "routing rule 3"},
      {"UpdateRoutingRule mask",
       Unary(&S::UpdateRoutingRule, Make<v1::UpdateRoutingRuleRequest>([](auto& r) {
         r.mutable_rule()->set_rule_id(3);
         r.mutable_update_mask()->add_paths("position");
       })),
       StatusCode::INVALID_ARGUMENT, "update_mask"},
      {"DeleteRoutingRule", Unary(&S::DeleteRoutingRule, v1::DeleteRoutingRuleRequest()),
       StatusCode::INVALID_ARGUMENT, "rule_id"},
      {"MergeContacts", Unary(&S::MergeContacts, Make<v1::MergeContactsRequest>([](auto& r) {
         r.set_survivor_contact_id(1);
       })),
       StatusCode::INVALID_ARGUMENT, "duplicate_contact_ids"},
      {"MergeAccounts", Unary(&S::MergeAccounts, Make<v1::MergeAccountsRequest>([](auto& r) {
         r.add_duplicate_account_ids(2);
       })),
       StatusCode::INVALID_ARGUMENT, "survivor_account_id"},
      {"ReorderRoutingRules",
       Unary(&S::ReorderRoutingRules,
             Make<v1::ReorderRoutingRulesRequest>([](auto& r) { r.add_rule_ids(4); })),
       StatusCode::INVALID_ARGUMENT, "rule_ids"},
  };
  for (const BadCase& c : cases) {
    grpc::Status status = c.call(*stub_);
    EXPECT_EQ(status.error_code(), c.code) << c.name << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.message)) << c.name;
  }
  {
    grpc::ClientContext ctx;
    handoff::v1::LeadHandoff bad;
    bad.set_handoff_id("x");
    handoff::v1::SubmitLeadResponse r;
    EXPECT_EQ(inbox_stub_->SubmitLead(&ctx, bad, &r).error_code(), StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext ctx;
    handoff::v1::LeadErasure bad;
    handoff::v1::EraseLeadResponse r;
    EXPECT_EQ(inbox_stub_->EraseLead(&ctx, bad, &r).error_code(), StatusCode::INVALID_ARGUMENT);
  }
  for (const char* table :
       {"reps", "handoffs", "accounts", "contacts", "opportunities", "objections", "activities",
        "quotas", "outbox", "routing_rules", "handoff_assignments"}) {
    EXPECT_EQ(db_.QueryInt(absl::StrCat("SELECT COUNT(*) FROM ", table)), 0) << table;
  }
}

// A manager builds their own team, not another manager's; a rep's figures are
// theirs, their manager's and the roles that read everything.
TEST_F(SalesServiceTest, ManagersCreateRepsInTheirTeamAndFiguresStayWithTheTeam) {
  const int64_t boss = Rep("boss", v1::REP_ROLE_MANAGER);
  const int64_t other_boss = Rep("other", v1::REP_ROLE_MANAGER);
  const int64_t ann = Rep("ann", v1::REP_ROLE_REP, boss);
  const int64_t bob = Rep("bob", v1::REP_ROLE_REP, boss);
  auto create = [&](int64_t as_manager, int64_t in_team, v1::RepRole role, const char* name) {
    grpc::ClientContext ctx;
    As(&ctx, "SALES_MANAGER", as_manager);
    v1::CreateRepRequest r;
    r.mutable_rep()->set_name(name);
    r.mutable_rep()->set_email(absl::StrCat(name, "@corp.example"));
    r.mutable_rep()->set_role(role);
    r.mutable_rep()->set_manager_rep_id(in_team);
    v1::Rep out;
    return stub_->CreateRep(&ctx, r, &out).error_code();
  };
  EXPECT_EQ(create(boss, other_boss, v1::REP_ROLE_REP, "planted"),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(create(boss, 0, v1::REP_ROLE_MANAGER, "rival"), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(create(boss, boss, v1::REP_ROLE_REP, "newhire"), grpc::StatusCode::OK);

  auto performance = [&](const char* role, int64_t caller_rep, int64_t of_rep) {
    grpc::ClientContext ctx;
    As(&ctx, role, caller_rep);
    v1::GetRepPerformanceRequest r;
    r.set_rep_id(of_rep);
    r.set_quarter("2026-Q4");
    v1::RepPerformance out;
    return stub_->GetRepPerformance(&ctx, r, &out).error_code();
  };
  EXPECT_EQ(performance("SALES_REP", ann, ann), grpc::StatusCode::OK);
  EXPECT_EQ(performance("SALES_REP", ann, bob), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(performance("SALES_MANAGER", boss, bob), grpc::StatusCode::OK);
  EXPECT_EQ(performance("SALES_MANAGER", other_boss, bob), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(performance("REVENUE_OPS", 0, bob), grpc::StatusCode::OK);
}

TEST_F(SalesServiceTest, ARepCannotCreateRepsOrSetQuotas) {
  const int64_t rep = Rep("ron", v1::REP_ROLE_REP);
  grpc::ClientContext c1;
  As(&c1, "SALES_REP", rep);
  v1::CreateRepRequest create;
  create.mutable_rep()->set_name("Sneaky");
  create.mutable_rep()->set_email("sneaky@corp.example");
  create.mutable_rep()->set_role(v1::REP_ROLE_MANAGER);
  v1::Rep out;
  EXPECT_EQ(stub_->CreateRep(&c1, create, &out).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext c2;
  As(&c2, "SALES_REP", rep);
  v1::SetQuotaRequest quota;
  quota.mutable_quota()->set_rep_id(rep);
  quota.mutable_quota()->set_quarter("2026-Q4");
  quota.mutable_quota()->mutable_revenue_target()->set_currency_code("USD");
  quota.mutable_quota()->mutable_revenue_target()->set_amount_minor(1);
  v1::Quota q;
  EXPECT_EQ(stub_->SetQuota(&c2, quota, &q).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

// Request ids are the caller's own (AIP-155, Stripe's semantics): byte-exact, per
// principal and method, and a reuse for a different request is refused.
TEST_F(SalesServiceTest, ARequestIdIsTheCallersOwnByteForByteAndForOneRequest) {
  auto create_account = [&](const std::string& principal, const std::string& request_id,
                            const std::string& name, v1::Account* out) {
    grpc::ClientContext ctx;
    ctx.AddMetadata(common::kPrincipalIdHeader, principal);
    ctx.AddMetadata(common::kRoleHeader, "ADMIN");
    v1::CreateAccountRequest r;
    r.mutable_account()->set_name(name);
    r.set_request_id(request_id);
    return stub_->CreateAccount(&ctx, r, out);
  };
  v1::Account first;
  ASSERT_TRUE(create_account("admin-a", "dev-acct-1", "Acme", &first).ok());
  // Case, a trailing space, an accent: other ids, other accounts.
  int n = 0;
  for (const char* id : {"DEV-ACCT-1", "dev-acct-1 ", "dév-acct-1"}) {
    v1::Account other;
    const grpc::Status s = create_account("admin-a", id, absl::StrCat("Acme ", ++n), &other);
    ASSERT_TRUE(s.ok()) << id << ": " << s.error_message();
    EXPECT_NE(other.account_id(), first.account_id()) << id;
  }
  // The same id from another caller is that caller's own.
  v1::Account theirs;
  ASSERT_TRUE(create_account("admin-b", "dev-acct-1", "Globex", &theirs).ok());
  EXPECT_NE(theirs.account_id(), first.account_id());
  EXPECT_EQ(theirs.name(), "Globex");
  // A retry replays; the same id with another body is refused and changes nothing.
  v1::Account replay;
  ASSERT_TRUE(create_account("admin-a", "dev-acct-1", "Acme", &replay).ok());
  EXPECT_EQ(replay.account_id(), first.account_id());
  v1::Account refused;
  const grpc::Status s = create_account("admin-a", "dev-acct-1", "Initech", &refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("request_id: 'dev-acct-1' was already used"));
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM accounts WHERE name = 'Initech'"), 0);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM accounts"), 5);
}

// A rep reusing a manager's request id does not get the manager's answer back.
TEST_F(SalesServiceTest, ARepReusingAManagersRequestIdRunsAsThemselves) {
  const int64_t boss = Rep("chief", v1::REP_ROLE_MANAGER);
  const int64_t rep = Rep("rex", v1::REP_ROLE_REP);  // not in the chief's team
  auto account = directory_.CreateAccount(
      [] {
        v1::Account a;
        a.set_name("Hooli");
        return a;
      }(),
      "");
  ASSERT_TRUE(account.ok());
  auto open = [&](const char* role, int64_t as, v1::Opportunity* o) {
    grpc::ClientContext ctx;
    As(&ctx, role, as);
    v1::CreateOpportunityRequest r;
    r.mutable_opportunity()->set_name("Hooli renewal");
    r.mutable_opportunity()->set_account_id(account->account_id());
    r.mutable_opportunity()->set_source(v1::SOURCE_SALES_PROSPECTING);
    r.mutable_opportunity()->set_owner_rep_id(boss);
    r.set_request_id("opp-1");
    return stub_->CreateOpportunity(&ctx, r, o);
  };
  v1::Opportunity managers;
  ASSERT_TRUE(open("SALES_MANAGER", boss, &managers).ok());
  v1::Opportunity reps;
  // The rep's own call: the row rules deny an opportunity owned by someone else.
  EXPECT_EQ(open("SALES_REP", rep, &reps).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(reps.opportunity_id(), 0);
}

// No list or string reaches the database past what every request is held to (a
// 65,536-entry id list came back INTERNAL: too many placeholders).
TEST_F(SalesServiceTest, OversizedListsAndStringsAreRefusedBeforeAnySql) {
  grpc::ClientContext ctx;
  v1::GetFunnelStatsRequest r;
  for (int64_t i = 1; i <= 60'000; ++i) r.add_lead_ids(i);
  v1::FunnelStats out;
  const grpc::Status s = stub_->GetFunnelStats(&ctx, r, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("lead_ids: more than 50000 entries"));
  grpc::ClientContext ctx2;
  v1::LogActivityRequest activity;
  activity.mutable_activity()->set_type(v1::ACTIVITY_TYPE_CALL);
  activity.mutable_activity()->set_contact_id(1);
  activity.mutable_activity()->set_notes(std::string(100'000, 'x'));
  v1::Activity logged;
  const grpc::Status s2 = stub_->LogActivity(&ctx2, activity, &logged);
  EXPECT_EQ(s2.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s2.error_message(), HasSubstr("activity.notes: longer than 65536 bytes"));
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM activities"), 0);
}

}  // namespace
}  // namespace funnel::sales
