// Issue 4's scenario through the gateway: a rep takes a handed-over lead from the
// inbox, accepts it, logs a call and a meeting, moves the opportunity through the
// stages, records and resolves an objection, closes it won, and the performance and
// pipeline reports show exactly that.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/ids.h"
#include "common/server/principal.h"
#include "common/server/request_log.h"
#include "funnel/handoff/v1/handoff.grpc.pb.h"
#include "funnel/sales/v1/sales_service.grpc.pb.h"
#include "tests/e2e/e2e_calls.h"
#include "tests/testing/stack.h"

namespace funnel {
namespace {

using ::funnel::testing::FunnelStack;

class SalesFlowTest : public ::testing::Test {
 protected:
  SalesFlowTest() : stack_("saflow") {
    sales_ = sales::v1::SalesService::NewStub(stack_.GatewayChannel());
    inbox_ = handoff::v1::HandoffInboxService::NewStub(
        stack_.GatewayChannel(stack_.Key("SERVICE_MARKETING")));
  }

  // The sales API as the holder of a key for `rep_id` with `role`.
  sales::v1::SalesService::Stub& As(int64_t rep_id, const std::string& role = "SALES_REP") {
    const std::string id = absl::StrCat(role == "SALES_REP" ? "rep-" : "manager-", rep_id);
    auto& stub = as_[id];
    if (!stub)
      stub =
          sales::v1::SalesService::NewStub(stack_.GatewayChannel(stack_.AddKey(role, id, rep_id)));
    return *stub;
  }

  std::map<std::string, std::unique_ptr<sales::v1::SalesService::Stub>> as_;

  FunnelStack stack_;
  std::unique_ptr<sales::v1::SalesService::Stub> sales_;
  std::unique_ptr<handoff::v1::HandoffInboxService::Stub> inbox_;
};

TEST_F(SalesFlowTest, RepWorksAHandedOverLeadToAWonDeal) {
  using namespace sales::v1;
  ASSERT_TRUE(testing::WaitForHealth(stack_.gateway_port(), "funnel.sales.v1.SalesService",
                                     testing::HealthCheckResponse::SERVING));
  // A manager and a rep on their team; the rep's quota for this quarter.
  Rep manager, rep;
  {
    grpc::ClientContext ctx;
    CreateRepRequest r;
    r.mutable_rep()->set_name("Mia Manager");
    r.mutable_rep()->set_email("mia@corp.example");
    r.mutable_rep()->set_role(REP_ROLE_MANAGER);
    ASSERT_GRPC_OK(sales_->CreateRep(&ctx, r, &manager));
  }
  {
    grpc::ClientContext ctx;
    CreateRepRequest r;
    r.mutable_rep()->set_name("Raj Rep");
    r.mutable_rep()->set_email("raj@corp.example");
    r.mutable_rep()->set_role(REP_ROLE_REP);
    r.mutable_rep()->set_manager_rep_id(manager.rep_id());
    ASSERT_GRPC_OK(sales_->CreateRep(&ctx, r, &rep));
  }
  const absl::CivilSecond now = absl::ToCivilSecond(absl::Now(), absl::UTCTimeZone());
  const std::string quarter = absl::StrCat(now.year(), "-Q", (now.month() - 1) / 3 + 1);
  {
    grpc::ClientContext ctx;
    SetQuotaRequest q;
    q.mutable_quota()->set_rep_id(rep.rep_id());
    q.mutable_quota()->set_quarter(quarter);
    q.mutable_quota()->mutable_revenue_target()->set_currency_code("USD");
    q.mutable_quota()->mutable_revenue_target()->set_amount_minor(10'000'000);
    q.mutable_quota()->set_call_target(20);
    Quota out;
    ASSERT_GRPC_OK(As(manager.rep_id(), "SALES_MANAGER").SetQuota(&ctx, q, &out));
  }
  // Marketing hands a lead over (as its relay does, through the gateway).
  handoff::v1::LeadHandoff lead;
  lead.set_handoff_id(common::NewUuid());
  lead.set_lead_id(42);
  lead.mutable_contact()->set_email("ada@analytical.example");
  lead.mutable_contact()->set_first_name("Ada");
  lead.mutable_contact()->set_company("Analytical Engines");
  lead.set_score(71);
  lead.set_temperature(handoff::v1::TEMPERATURE_HOT);
  {
    grpc::ClientContext ctx;
    handoff::v1::SubmitLeadResponse receipt;
    ASSERT_GRPC_OK(inbox_->SubmitLead(&ctx, lead, &receipt));
  }
  // The rep finds it in the inbox, takes it, calls, accepts.
  {
    grpc::ClientContext ctx;
    auto& raj = As(rep.rep_id());
    ListHandoffsRequest list;
    list.set_state(HANDOFF_STATE_PENDING);
    ListHandoffsResponse inbox;
    ASSERT_GRPC_OK(raj.ListHandoffs(&ctx, list, &inbox));
    ASSERT_EQ(inbox.handoffs_size(), 1);
    EXPECT_EQ(inbox.handoffs(0).lead().contact().company(), "Analytical Engines");
  }
  {
    grpc::ClientContext ctx;
    auto& raj = As(rep.rep_id());
    AssignHandoffRequest a;
    a.set_handoff_id(lead.handoff_id());
    a.set_rep_id(rep.rep_id());
    Handoff h;
    ASSERT_GRPC_OK(raj.AssignHandoff(&ctx, a, &h));
  }
  auto log = [&](ActivityType type, int64_t opportunity_id, const std::string& handoff_id) {
    grpc::ClientContext ctx;
    auto& raj = As(rep.rep_id());
    LogActivityRequest l;
    l.mutable_activity()->set_type(type);
    l.mutable_activity()->set_opportunity_id(opportunity_id);
    l.mutable_activity()->set_handoff_id(handoff_id);
    l.mutable_activity()->set_outcome("talked");
    Activity out;
    return raj.LogActivity(&ctx, l, &out);
  };
  ASSERT_GRPC_OK(log(ACTIVITY_TYPE_CALL, 0, lead.handoff_id()));
  AcceptHandoffResponse accepted;
  {
    grpc::ClientContext ctx;
    auto& raj = As(rep.rep_id());
    AcceptHandoffRequest a;
    a.set_handoff_id(lead.handoff_id());
    ASSERT_GRPC_OK(raj.AcceptHandoff(&ctx, a, &accepted));
  }
  const int64_t opp = accepted.opportunity().opportunity_id();
  EXPECT_EQ(accepted.opportunity().source(), SOURCE_MARKETING);
  ASSERT_GRPC_OK(log(ACTIVITY_TYPE_MEETING, opp, ""));
  {
    grpc::ClientContext ctx;
    auto& raj = As(rep.rep_id());
    UpdateOpportunityRequest u;
    u.mutable_opportunity()->set_opportunity_id(opp);
    u.mutable_opportunity()->mutable_amount()->set_currency_code("USD");
    u.mutable_opportunity()->mutable_amount()->set_amount_minor(4'000'000);
    u.mutable_update_mask()->add_paths("amount");
    Opportunity out;
    ASSERT_GRPC_OK(raj.UpdateOpportunity(&ctx, u, &out));
  }
  // Through the stages; another rep may not touch it.
  for (Stage stage : {STAGE_NEEDS_ANALYSIS, STAGE_PROPOSAL, STAGE_NEGOTIATION}) {
    grpc::ClientContext ctx;
    auto& raj = As(rep.rep_id());
    MoveOpportunityStageRequest m;
    m.set_opportunity_id(opp);
    m.set_stage(stage);
    Opportunity out;
    ASSERT_GRPC_OK(raj.MoveOpportunityStage(&ctx, m, &out));
    EXPECT_EQ(out.probability(), stage == STAGE_NEGOTIATION ? 80
                                 : stage == STAGE_PROPOSAL  ? 60
                                                            : 40);
  }
  {
    grpc::ClientContext ctx;
    auto& other = As(rep.rep_id() + 1000);
    MoveOpportunityStageRequest m;
    m.set_opportunity_id(opp);
    m.set_stage(STAGE_PROSPECTING);
    Opportunity out;
    EXPECT_EQ(other.MoveOpportunityStage(&ctx, m, &out).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  // The pipeline shows the deal in commit before it closes.
  {
    grpc::ClientContext ctx;
    GetPipelineReportRequest p;
    p.set_rep_id(rep.rep_id());
    PipelineReport report;
    ASSERT_GRPC_OK(sales_->GetPipelineReport(&ctx, p, &report));
    ASSERT_EQ(report.commit_size(), 1);
    EXPECT_EQ(report.commit(0).amount_minor(), 4'000'000);
    EXPECT_EQ(report.commit(0).weighted_amount_minor(), 3'200'000);
    EXPECT_EQ(report.marketing_sourced(0).amount_minor(), 4'000'000);
  }
  Objection objection;
  {
    grpc::ClientContext ctx;
    auto& raj = As(rep.rep_id());
    AddObjectionRequest a;
    a.set_opportunity_id(opp);
    a.set_text("Too expensive for year one");
    ASSERT_GRPC_OK(raj.AddObjection(&ctx, a, &objection));
  }
  {
    grpc::ClientContext ctx;
    auto& raj = As(rep.rep_id());
    ResolveObjectionRequest r;
    r.set_objection_id(objection.objection_id());
    r.set_resolution("Phased rollout");
    Objection out;
    ASSERT_GRPC_OK(raj.ResolveObjection(&ctx, r, &out));
    EXPECT_TRUE(out.resolved());
  }
  {
    grpc::ClientContext ctx;
    auto& raj = As(rep.rep_id());
    CloseOpportunityRequest c;
    c.set_opportunity_id(opp);
    c.set_outcome(handoff::v1::OUTCOME_WON);
    c.mutable_amount()->set_currency_code("USD");
    c.mutable_amount()->set_amount_minor(3'750'000);
    Opportunity out;
    ASSERT_GRPC_OK(raj.CloseOpportunity(&ctx, c, &out));
    EXPECT_EQ(out.stage(), STAGE_CLOSED_WON);
  }
  {
    grpc::ClientContext ctx;
    GetRepPerformanceRequest r;
    r.set_rep_id(rep.rep_id());
    r.set_quarter(quarter);
    RepPerformance perf;
    ASSERT_GRPC_OK(sales_->GetRepPerformance(&ctx, r, &perf));
    EXPECT_EQ(perf.closed_won().currency_code(), "USD");
    EXPECT_EQ(perf.closed_won().amount_minor(), 3'750'000);
    EXPECT_DOUBLE_EQ(perf.attainment_percent(), 37.5);
    EXPECT_DOUBLE_EQ(perf.win_rate(), 1.0);
    EXPECT_EQ(perf.calls(), 1);
    EXPECT_EQ(perf.meetings(), 1);
    EXPECT_EQ(perf.open_pipeline().amount_minor(), 0);
  }
  {
    grpc::ClientContext ctx;
    GetPipelineReportRequest p;
    p.set_manager_rep_id(manager.rep_id());
    PipelineReport report;
    ASSERT_GRPC_OK(sales_->GetPipelineReport(&ctx, p, &report));
    EXPECT_EQ(report.stages(STAGE_CLOSED_WON - 1).count(), 1);
    EXPECT_EQ(report.stages(STAGE_CLOSED_WON - 1).totals(0).amount_minor(), 3'750'000);
    EXPECT_DOUBLE_EQ(report.win_rate(), 1.0);
    EXPECT_EQ(report.sla().decided(), 1);
    EXPECT_EQ(report.sla().decided_within_sla(), 1);
    EXPECT_EQ(report.pipeline_size(), 0);
  }
  {
    grpc::ClientContext ctx;
    ListStageChangesRequest l;
    l.set_opportunity_id(opp);
    ListStageChangesResponse history;
    ASSERT_GRPC_OK(sales_->ListStageChanges(&ctx, l, &history));
    ASSERT_EQ(history.changes_size(), 5);  // opened, 3 moves, won
    EXPECT_EQ(history.changes(0).to_stage(), STAGE_QUALIFICATION);
    EXPECT_EQ(history.changes(4).to_stage(), STAGE_CLOSED_WON);
    EXPECT_EQ(history.changes(4).changed_by(),
              absl::StrCat("rep-", rep.rep_id()));  // the key's principal
  }
}

}  // namespace
}  // namespace funnel
