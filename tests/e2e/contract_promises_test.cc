// The contract keeps its promises at the seams, through the gateway with the real
// services and relays: an opt-out reaches sales, an erasure leaves no note about the
// person, a corrected deal is counted once, a campaign without a cost still shows
// its revenue, rates stay within 0..1, the SLA clock cannot be back-dated, and
// strangers at one freemail domain never share an account.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/time_util.h"
#include "funnel/gateway/v1/funnel_service.grpc.pb.h"
#include "funnel/marketing/v1/marketing_service.grpc.pb.h"
#include "funnel/sales/v1/sales_service.grpc.pb.h"
#include "tests/e2e/e2e_calls.h"
#include "tests/testing/stack.h"

namespace funnel {
namespace {

using ::funnel::testing::FunnelStack;
using ::funnel::testing::WaitFor;
using ::testing::HasSubstr;

class ContractPromisesTest : public ::testing::Test {
 protected:
  ContractPromisesTest() : stack_("promises") {
    marketing_ =
        marketing::v1::MarketingService::NewStub(stack_.GatewayChannel(stack_.Key("MARKETING")));
    sales_ = sales::v1::SalesService::NewStub(stack_.GatewayChannel());
    views_ = gateway::v1::FunnelService::NewStub(stack_.GatewayChannel(stack_.Key("REVENUE_OPS")));
  }

  void SetUp() override {
    for (const char* s : {"funnel.marketing.v1.MarketingService", "funnel.sales.v1.SalesService"}) {
      ASSERT_TRUE(
          testing::WaitForHealth(stack_.gateway_port(), s, testing::HealthCheckResponse::SERVING));
    }
    grpc::ClientContext ctx;
    sales::v1::CreateRepRequest r;
    r.mutable_rep()->set_name("Rita");
    r.mutable_rep()->set_email("rita@corp.example");
    r.mutable_rep()->set_role(sales::v1::REP_ROLE_REP);
    sales::v1::Rep rep;
    ASSERT_GRPC_OK(sales_->CreateRep(&ctx, r, &rep));
    rep_id_ = rep.rep_id();
  }

  // A campaign; cost_minor 0 records no cost at all.
  int64_t Campaign(const std::string& name, int64_t cost_minor) {
    grpc::ClientContext ctx;
    marketing::v1::CreateCampaignRequest r;
    r.mutable_campaign()->set_name(name);
    r.mutable_campaign()->set_channel(marketing::v1::CHANNEL_EVENT);
    if (cost_minor > 0) {
      r.mutable_campaign()->mutable_actual_cost()->set_currency_code("USD");
      r.mutable_campaign()->mutable_actual_cost()->set_amount_minor(cost_minor);
    }
    marketing::v1::Campaign campaign;
    grpc::Status s = marketing_->CreateCampaign(&ctx, r, &campaign);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return campaign.campaign_id();
  }

  // Captures the person through `campaign_id` and qualifies them by hand; answers
  // the lead id once sales holds its pending handoff.
  int64_t HandOver(const std::string& email, const std::string& company, int64_t campaign_id) {
    marketing::v1::CaptureLeadResponse captured;
    {
      grpc::ClientContext ctx;
      marketing::v1::CaptureLeadRequest r;
      r.mutable_contact()->set_email(email);
      r.mutable_contact()->set_company(company);
      r.set_campaign_id(campaign_id);
      r.set_touchpoint_type(handoff::v1::TOUCHPOINT_TYPE_EVENT_ATTENDED);
      grpc::Status s = marketing_->CaptureLead(&ctx, r, &captured);
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    const int64_t lead_id = captured.lead().lead_id();
    Qualify(lead_id);
    EXPECT_TRUE(WaitFor([&] { return !PendingHandoffOf(lead_id).empty(); }));
    return lead_id;
  }

  void Qualify(int64_t lead_id) {
    grpc::ClientContext ctx;
    marketing::v1::QualifyLeadRequest r;
    r.set_lead_id(lead_id);
    r.set_note("asked for pricing");
    marketing::v1::Lead out;
    grpc::Status s = marketing_->QualifyLead(&ctx, r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }

  std::string PendingHandoffOf(int64_t lead_id) {
    grpc::ClientContext ctx;
    sales::v1::ListHandoffsRequest r;
    r.set_state(sales::v1::HANDOFF_STATE_PENDING);
    r.set_lead_id(lead_id);
    sales::v1::ListHandoffsResponse resp;
    if (!sales_->ListHandoffs(&ctx, r, &resp).ok() || resp.handoffs_size() == 0) return "";
    return resp.handoffs(0).handoff_id();
  }

  sales::v1::Opportunity Accept(const std::string& handoff_id) {
    grpc::ClientContext ctx;
    sales::v1::AssignHandoffRequest a;
    a.set_handoff_id(handoff_id);
    a.set_rep_id(rep_id_);
    sales::v1::Handoff out;
    EXPECT_TRUE(sales_->AssignHandoff(&ctx, a, &out).ok());
    grpc::ClientContext ctx2;
    sales::v1::AcceptHandoffRequest r;
    r.set_handoff_id(handoff_id);
    sales::v1::AcceptHandoffResponse accepted;
    grpc::Status s = sales_->AcceptHandoff(&ctx2, r, &accepted);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return accepted.opportunity();
  }

  void CloseWon(int64_t opportunity_id, int64_t amount_minor) {
    grpc::ClientContext ctx;
    sales::v1::CloseOpportunityRequest c;
    c.set_opportunity_id(opportunity_id);
    c.set_outcome(handoff::v1::OUTCOME_WON);
    c.mutable_amount()->set_currency_code("USD");
    c.mutable_amount()->set_amount_minor(amount_minor);
    sales::v1::Opportunity out;
    grpc::Status s = sales_->CloseOpportunity(&ctx, c, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }

  void CloseLost(int64_t opportunity_id) {
    grpc::ClientContext ctx;
    sales::v1::CloseOpportunityRequest c;
    c.set_opportunity_id(opportunity_id);
    c.set_outcome(handoff::v1::OUTCOME_LOST);
    c.set_loss_reason(handoff::v1::LOSS_REASON_COMPETITOR);
    sales::v1::Opportunity out;
    grpc::Status s = sales_->CloseOpportunity(&ctx, c, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }

  void Reopen(int64_t opportunity_id) {
    grpc::ClientContext ctx;
    sales::v1::MoveOpportunityStageRequest r;
    r.set_opportunity_id(opportunity_id);
    r.set_stage(sales::v1::STAGE_NEGOTIATION);
    sales::v1::Opportunity out;
    grpc::Status s = sales_->MoveOpportunityStage(&ctx, r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }

  marketing::v1::Lead GetLead(int64_t id) { return testing::GetLead(*marketing_, id); }

  marketing::v1::CampaignMetrics Metrics(int64_t campaign_id) {
    return testing::CampaignMetrics(*marketing_, campaign_id);
  }

  gateway::v1::FunnelReport Report(int64_t campaign_id) {
    grpc::ClientContext ctx;
    gateway::v1::GetFunnelReportRequest r;
    r.set_campaign_id(campaign_id);
    gateway::v1::FunnelReport report;
    grpc::Status s = views_->GetFunnelReport(&ctx, r, &report);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return report;
  }

  void Unsubscribe(const std::string& email) {
    grpc::ClientContext ctx;
    marketing::v1::UnsubscribeRequest r;
    r.set_email(email);
    marketing::v1::UnsubscribeResponse out;
    grpc::Status s = marketing_->Unsubscribe(&ctx, r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }

  sales::v1::Handoff GetHandoff(const std::string& handoff_id) {
    grpc::ClientContext ctx;
    sales::v1::GetHandoffRequest r;
    r.set_handoff_id(handoff_id);
    sales::v1::Handoff h;
    grpc::Status s = sales_->GetHandoff(&ctx, r, &h);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return h;
  }

  sales::v1::Contact GetContact(int64_t contact_id) {
    grpc::ClientContext ctx;
    sales::v1::GetContactRequest r;
    r.set_contact_id(contact_id);
    sales::v1::Contact c;
    grpc::Status s = sales_->GetContact(&ctx, r, &c);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return c;
  }

  sales::v1::Opportunity GetOpportunity(int64_t opportunity_id) {
    grpc::ClientContext ctx;
    sales::v1::GetOpportunityRequest r;
    r.set_opportunity_id(opportunity_id);
    sales::v1::Opportunity o;
    grpc::Status s = sales_->GetOpportunity(&ctx, r, &o);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return o;
  }

  bool OutboxesEmpty() {
    return stack_.marketing_db().QueryInt(
               "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL") == 0 &&
           stack_.sales_db().QueryInt("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL") ==
               0;
  }

  FunnelStack stack_;
  std::unique_ptr<marketing::v1::MarketingService::Stub> marketing_;
  std::unique_ptr<sales::v1::SalesService::Stub> sales_;
  std::unique_ptr<gateway::v1::FunnelService::Stub> views_;
  int64_t rep_id_ = 0;
};

TEST_F(ContractPromisesTest, AnOptOutAfterDeliveryWithdrawsThePendingHandoff) {
  const int64_t lead_id = HandOver("max@acme.example", "Acme", Campaign("Fair", 1));
  const std::string handoff_id = PendingHandoffOf(lead_id);
  Unsubscribe("max@acme.example");
  ASSERT_TRUE(WaitFor([&] { return OutboxesEmpty(); }));
  const sales::v1::Handoff h = GetHandoff(handoff_id);
  EXPECT_EQ(h.state(), sales::v1::HANDOFF_STATE_WITHDRAWN);
  EXPECT_EQ(h.lead().consent(), handoff::v1::CONSENT_STATUS_OPTED_OUT);
  EXPECT_THAT(h.withdrawal_reason(), HasSubstr("opted out"));
  grpc::ClientContext ctx;
  sales::v1::AssignHandoffRequest a;
  a.set_handoff_id(handoff_id);
  a.set_rep_id(rep_id_);
  sales::v1::Handoff out;
  EXPECT_EQ(sales_->AssignHandoff(&ctx, a, &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  grpc::ClientContext ctx2;
  sales::v1::AcceptHandoffRequest r;
  r.set_handoff_id(handoff_id);
  sales::v1::AcceptHandoffResponse accepted;
  const grpc::Status refused = sales_->AcceptHandoff(&ctx2, r, &accepted);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("WITHDRAWN"));
  EXPECT_EQ(stack_.sales_db().QueryInt("SELECT COUNT(*) FROM opportunities"), 0);
}

TEST_F(ContractPromisesTest, AnAcceptedPersonsOptOutAndReconsentShowInSales) {
  const int64_t lead_id = HandOver("ned@acme.example", "Acme", Campaign("Fair", 1));
  const std::string handoff_id = PendingHandoffOf(lead_id);
  const sales::v1::Opportunity deal = Accept(handoff_id);
  ASSERT_TRUE(WaitFor([&] { return OutboxesEmpty(); }));
  Unsubscribe("ned@acme.example");
  ASSERT_TRUE(WaitFor([&] { return OutboxesEmpty(); }));
  EXPECT_EQ(GetContact(deal.contact_id()).consent(), handoff::v1::CONSENT_STATUS_OPTED_OUT);
  EXPECT_EQ(GetHandoff(handoff_id).lead().consent(), handoff::v1::CONSENT_STATUS_OPTED_OUT);
  EXPECT_EQ(GetHandoff(handoff_id).state(), sales::v1::HANDOFF_STATE_ACCEPTED);
  EXPECT_EQ(GetOpportunity(deal.opportunity_id()).contact_consent(),
            handoff::v1::CONSENT_STATUS_OPTED_OUT);

  // A field edit cannot lift it; a recorded re-consent can, and sales learns it.
  marketing::v1::Lead lead = GetLead(lead_id);
  {
    grpc::ClientContext ctx;
    marketing::v1::UpdateLeadRequest r;
    *r.mutable_lead() = lead;
    r.mutable_lead()->set_consent(handoff::v1::CONSENT_STATUS_OPTED_IN);
    r.mutable_update_mask()->add_paths("consent");
    marketing::v1::Lead out;
    const grpc::Status s = marketing_->UpdateLead(&ctx, r, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(s.error_message(), HasSubstr("ResubscribeLead"));
  }
  {
    grpc::ClientContext ctx;
    marketing::v1::ResubscribeLeadRequest r;
    r.set_lead_id(lead_id);
    marketing::v1::Lead out;
    EXPECT_EQ(marketing_->ResubscribeLead(&ctx, r, &out).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);  // no source
    grpc::ClientContext ctx2;
    r.set_source("signed the renewal form");
    ASSERT_GRPC_OK(marketing_->ResubscribeLead(&ctx2, r, &out));
    EXPECT_EQ(out.consent(), handoff::v1::CONSENT_STATUS_OPTED_IN);
  }
  ASSERT_TRUE(WaitFor([&] { return OutboxesEmpty(); }));
  EXPECT_EQ(GetContact(deal.contact_id()).consent(), handoff::v1::CONSENT_STATUS_OPTED_IN);
}

TEST_F(ContractPromisesTest, AnErasedPersonLeavesNoNoteInSales) {
  const int64_t lead_id = HandOver("alan@leeds.example", "Leeds Ltd", Campaign("Fair", 1));
  const std::string handoff_id = PendingHandoffOf(lead_id);
  const sales::v1::Opportunity deal = Accept(handoff_id);
  {
    grpc::ClientContext ctx;
    sales::v1::LogActivityRequest r;
    r.mutable_activity()->set_type(sales::v1::ACTIVITY_TYPE_CALL);
    r.mutable_activity()->set_opportunity_id(deal.opportunity_id());
    r.mutable_activity()->set_notes("Alan's cell is 555-1234, lives in Leeds");
    sales::v1::Activity out;
    ASSERT_GRPC_OK(sales_->LogActivity(&ctx, r, &out));
    grpc::ClientContext ctx2;
    sales::v1::AddObjectionRequest o;
    o.set_opportunity_id(deal.opportunity_id());
    o.set_text("Alan Smith says too pricey");
    sales::v1::Objection objection;
    ASSERT_GRPC_OK(sales_->AddObjection(&ctx2, o, &objection));
  }
  {
    grpc::ClientContext ctx;
    marketing::v1::EraseLeadRequest r;
    r.set_lead_id(lead_id);
    marketing::v1::EraseLeadResponse out;
    ASSERT_GRPC_OK(marketing_->EraseLead(&ctx, r, &out));
  }
  ASSERT_TRUE(WaitFor([&] { return OutboxesEmpty(); }));
  grpc::ClientContext ctx;
  sales::v1::ListActivitiesRequest la;
  la.set_opportunity_id(deal.opportunity_id());
  sales::v1::ListActivitiesResponse activities;
  ASSERT_GRPC_OK(sales_->ListActivities(&ctx, la, &activities));
  ASSERT_EQ(activities.activities_size(), 1);
  EXPECT_EQ(activities.activities(0).notes(), "");
  EXPECT_EQ(activities.activities(0).type(), sales::v1::ACTIVITY_TYPE_CALL);  // the fact stays
  grpc::ClientContext ctx2;
  sales::v1::ListObjectionsRequest lo;
  lo.set_opportunity_id(deal.opportunity_id());
  sales::v1::ListObjectionsResponse objections;
  ASSERT_GRPC_OK(sales_->ListObjections(&ctx2, lo, &objections));
  ASSERT_EQ(objections.objections_size(), 1);
  EXPECT_EQ(objections.objections(0).text(), "");
  EXPECT_EQ(GetContact(deal.contact_id()).email(), "");
  EXPECT_EQ(GetHandoff(handoff_id).lead().contact().email(), "");
  EXPECT_EQ(
      stack_.sales_db().QueryInt("SELECT COUNT(*) FROM inbox_events WHERE kind = 'LeadErasure'"),
      1);
}

// Sales' won count and revenue for the campaign (the report's sales side) equal
// marketing's won deals and first-touch revenue at every step.
TEST_F(ContractPromisesTest, AReopenedAndReclosedDealIsCountedOnceAtItsLatestOutcome) {
  const int64_t campaign = Campaign("Expo", 500'000);
  const int64_t lead_id = HandOver("hal@acme.example", "Acme", campaign);
  const sales::v1::Opportunity opportunity = Accept(PendingHandoffOf(lead_id));
  ASSERT_NE(opportunity.opportunity_id(), 0);

  struct Step {
    std::function<void()> act;
    int64_t won;
    int64_t revenue;
    marketing::v1::LeadStage stage;
  };
  const int64_t id = opportunity.opportunity_id();
  const std::vector<Step> steps = {
      {[&] { CloseWon(id, 1'100'000); }, 1, 1'100'000, marketing::v1::LEAD_STAGE_CUSTOMER},
      {[&] { Reopen(id); }, 0, 0, marketing::v1::LEAD_STAGE_SALES_ACCEPTED},
      {[&] { CloseWon(id, 2'200'000); }, 1, 2'200'000, marketing::v1::LEAD_STAGE_CUSTOMER},
      {[&] { Reopen(id); }, 0, 0, marketing::v1::LEAD_STAGE_SALES_ACCEPTED},
      {[&] { CloseLost(id); }, 0, 0, marketing::v1::LEAD_STAGE_SALES_ACCEPTED},
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("step ", i));
    steps[i].act();
    ASSERT_TRUE(WaitFor([&] { return OutboxesEmpty(); }));
    const marketing::v1::CampaignMetrics m = Metrics(campaign);
    EXPECT_EQ(m.won_deals(), steps[i].won);
    ASSERT_EQ(m.revenue_size(), 3);
    for (const auto& line : m.revenue()) {
      EXPECT_EQ(line.revenue().amount_minor(), steps[i].revenue);
      ASSERT_TRUE(line.has_roi());
      EXPECT_DOUBLE_EQ(line.roi(), (steps[i].revenue - 500'000) / 500'000.0);
    }
    const gateway::v1::FunnelReport report = Report(campaign);
    EXPECT_EQ(report.won(), m.won_deals());
    int64_t sales_revenue = 0;
    for (const auto& money : report.won_revenue()) sales_revenue += money.amount_minor();
    EXPECT_EQ(sales_revenue, m.revenue(0).revenue().amount_minor());
    const marketing::v1::Lead lead = GetLead(lead_id);
    EXPECT_EQ(lead.stage(), steps[i].stage);
  }
  EXPECT_EQ(GetLead(lead_id).loss_reason(), handoff::v1::LOSS_REASON_COMPETITOR);
  // Five revisions crossed the contract, each applied once.
  EXPECT_EQ(stack_.marketing_db().QueryInt(
                "SELECT COUNT(*) FROM inbox_events WHERE kind = 'DealOutcome'"),
            5);
  EXPECT_EQ(stack_.marketing_db().QueryInt("SELECT MAX(outcome_revision) FROM handoffs"), 5);
}

TEST_F(ContractPromisesTest, ACampaignWithoutACostShowsItsRevenueAndNoRoi) {
  const int64_t campaign = Campaign("Word of mouth", 0);
  const int64_t lead_id = HandOver("ivy@initech.example", "Initech", campaign);
  CloseWon(Accept(PendingHandoffOf(lead_id)).opportunity_id(), 750'000);
  ASSERT_TRUE(
      WaitFor([&] { return GetLead(lead_id).stage() == marketing::v1::LEAD_STAGE_CUSTOMER; }));
  const marketing::v1::CampaignMetrics m = Metrics(campaign);
  EXPECT_EQ(m.won_deals(), 1);
  ASSERT_EQ(m.revenue_size(), 3);
  for (const auto& line : m.revenue()) {
    EXPECT_EQ(line.revenue().currency_code(), "USD");
    EXPECT_EQ(line.revenue().amount_minor(), 750'000);
    ASSERT_EQ(line.revenue_by_currency_size(), 1);
    EXPECT_FALSE(line.has_roi());
  }
}

TEST_F(ContractPromisesTest, ARehandoffKeepsEveryRateWithinZeroAndOne) {
  const int64_t campaign = Campaign("Retarget", 1);
  const int64_t lead_id = HandOver("kim@umbrella.example", "Umbrella", campaign);
  {
    grpc::ClientContext ctx;
    sales::v1::RejectHandoffRequest r;
    r.set_handoff_id(PendingHandoffOf(lead_id));
    r.set_reason(handoff::v1::REJECTION_REASON_NOT_READY);
    sales::v1::Handoff out;
    ASSERT_GRPC_OK(sales_->RejectHandoff(&ctx, r, &out));
  }
  ASSERT_TRUE(
      WaitFor([&] { return GetLead(lead_id).stage() == marketing::v1::LEAD_STAGE_RECYCLED; }));
  Qualify(lead_id);
  ASSERT_TRUE(WaitFor([&] { return !PendingHandoffOf(lead_id).empty(); }));
  ASSERT_TRUE(WaitFor([&] { return OutboxesEmpty(); }));
  const gateway::v1::FunnelReport report = Report(campaign);
  EXPECT_EQ(report.mqls(), 1);
  EXPECT_EQ(report.handed_off(), 1);
  EXPECT_EQ(report.rehandoffs(), 1);
  ASSERT_EQ(report.conversions_size(), 4);
  for (const auto& c : report.conversions()) {
    EXPECT_GE(c.rate(), 0.0);
    EXPECT_LE(c.rate(), 1.0) << c.from_step() << " -> " << c.to_step();
  }
  EXPECT_DOUBLE_EQ(report.conversions(1).rate(), 1.0);  // mql -> handed_off
}

TEST_F(ContractPromisesTest, TheSlaClockCannotBeBackDated) {
  const int64_t lead_id = HandOver("jo@globex.example", "Globex", Campaign("Webinar", 1));
  const std::string handoff_id = PendingHandoffOf(lead_id);
  grpc::ClientContext ctx;
  sales::v1::LogActivityRequest r;
  r.mutable_activity()->set_type(sales::v1::ACTIVITY_TYPE_CALL);
  r.mutable_activity()->set_handoff_id(handoff_id);
  *r.mutable_activity()->mutable_occur_time() =
      common::ToProtoTime(absl::FromCivil(absl::CivilSecond(2020, 1, 1), absl::UTCTimeZone()));
  sales::v1::Activity out;
  grpc::Status s = sales_->LogActivity(&ctx, r, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("activity.occur_time"));
  grpc::ClientContext get_ctx;
  sales::v1::GetHandoffRequest get;
  get.set_handoff_id(handoff_id);
  sales::v1::Handoff h;
  ASSERT_GRPC_OK(sales_->GetHandoff(&get_ctx, get, &h));
  EXPECT_FALSE(h.has_first_response_time());
  grpc::ClientContext report_ctx;
  sales::v1::PipelineReport pipeline;
  ASSERT_GRPC_OK(
      sales_->GetPipelineReport(&report_ctx, sales::v1::GetPipelineReportRequest(), &pipeline));
  EXPECT_GE(pipeline.sla().median_first_response_seconds(), 0);
}

TEST_F(ContractPromisesTest, TwoFreemailLeadsBecomeTwoAccounts) {
  const int64_t campaign = Campaign("Newsletter", 1);
  const sales::v1::Opportunity a =
      Accept(PendingHandoffOf(HandOver("ann@gmail.com", "", campaign)));
  const sales::v1::Opportunity b =
      Accept(PendingHandoffOf(HandOver("bob@gmail.com", "", campaign)));
  ASSERT_NE(a.account_id(), 0);
  EXPECT_NE(a.account_id(), b.account_id());
  grpc::ClientContext ctx;
  sales::v1::GetAccountRequest r;
  r.set_account_id(a.account_id());
  sales::v1::Account account;
  ASSERT_GRPC_OK(sales_->GetAccount(&ctx, r, &account));
  EXPECT_NE(account.name(), "gmail.com");
}

}  // namespace
}  // namespace funnel
