// Issue 21's merge scenario through the gateway: a person captured twice, one
// record already handed to sales, is merged in marketing. Marketing then holds one
// person, sales' handoff and deal point at the survivor, the old id answers the
// survivor, and the funnel report and the campaign's attribution count the person
// and the deal once.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "funnel/gateway/v1/funnel_service.grpc.pb.h"
#include "funnel/marketing/v1/marketing_service.grpc.pb.h"
#include "funnel/sales/v1/sales_service.grpc.pb.h"
#include "tests/e2e/e2e_calls.h"
#include "tests/testing/stack.h"

namespace funnel {
namespace {

using ::funnel::testing::FunnelStack;
using ::funnel::testing::WaitFor;

class LeadMergeFlowTest : public ::testing::Test {
 protected:
  LeadMergeFlowTest() : stack_("merge") {
    marketing_ =
        marketing::v1::MarketingService::NewStub(stack_.GatewayChannel(stack_.Key("MARKETING")));
    sales_ = sales::v1::SalesService::NewStub(stack_.GatewayChannel());
    views_ = gateway::v1::FunnelService::NewStub(stack_.GatewayChannel(stack_.Key("REVENUE_OPS")));
  }

  int64_t CaptureLead(const std::string& email, int64_t campaign_id,
                      handoff::v1::TouchpointType type, const std::string& company = "") {
    grpc::ClientContext ctx;
    marketing::v1::CaptureLeadRequest r;
    r.mutable_contact()->set_email(email);
    r.mutable_contact()->set_company(company);
    r.set_campaign_id(campaign_id);
    r.set_touchpoint_type(type);
    marketing::v1::CaptureLeadResponse resp;
    const grpc::Status s = marketing_->CaptureLead(&ctx, r, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.lead().lead_id();
  }

  std::vector<sales::v1::Handoff> Handoffs() {
    grpc::ClientContext ctx;
    sales::v1::ListHandoffsRequest r;
    sales::v1::ListHandoffsResponse resp;
    if (!sales_->ListHandoffs(&ctx, r, &resp).ok()) return {};
    return {resp.handoffs().begin(), resp.handoffs().end()};
  }

  marketing::v1::Lead GetLead(int64_t id) { return testing::GetLead(*marketing_, id); }

  FunnelStack stack_;
  std::unique_ptr<marketing::v1::MarketingService::Stub> marketing_;
  std::unique_ptr<sales::v1::SalesService::Stub> sales_;
  std::unique_ptr<gateway::v1::FunnelService::Stub> views_;
};

TEST_F(LeadMergeFlowTest, APersonCapturedTwiceAndHandedOffOnceIsOnePersonEverywhere) {
  using namespace marketing::v1;
  for (const char* s : {"funnel.marketing.v1.MarketingService", "funnel.sales.v1.SalesService"}) {
    ASSERT_TRUE(
        testing::WaitForHealth(stack_.gateway_port(), s, testing::HealthCheckResponse::SERVING));
  }
  Campaign campaign;
  {
    grpc::ClientContext ctx;
    CreateCampaignRequest r;
    r.mutable_campaign()->set_name("Expo");
    r.mutable_campaign()->set_channel(CHANNEL_EVENT);
    ASSERT_GRPC_OK(marketing_->CreateCampaign(&ctx, r, &campaign));
  }
  const int64_t c = campaign.campaign_id();
  // At the expo with her work address; later a click with her own.
  const int64_t work =
      CaptureLead("maya@acme.example", c, handoff::v1::TOUCHPOINT_TYPE_EVENT_ATTENDED, "Acme");
  {
    grpc::ClientContext ctx;
    QualifyLeadRequest r;
    r.set_lead_id(work);
    r.set_note("asked for a quote at the stand");
    Lead out;
    ASSERT_GRPC_OK(marketing_->QualifyLead(&ctx, r, &out));
  }
  ASSERT_TRUE(WaitFor([&] { return Handoffs().size() == 1; }, absl::Seconds(10)));
  ASSERT_TRUE(
      WaitFor([&] { return GetLead(work).stage() == LEAD_STAGE_HANDED_OFF; }, absl::Seconds(10)));
  const int64_t home = CaptureLead("maya.r@mail.example", c, handoff::v1::TOUCHPOINT_TYPE_AD_CLICK);
  ASSERT_EQ(testing::CampaignMetrics(*marketing_, c).reach(), 2);
  ASSERT_EQ(testing::FunnelReport(*views_, c).leads_captured(), 2);

  // The record sales never saw survives.
  Lead survivor;
  {
    grpc::ClientContext ctx;
    MergeLeadsRequest r;
    r.set_survivor_lead_id(home);
    r.add_duplicate_lead_ids(work);
    r.set_request_id("merge-maya");
    ASSERT_GRPC_OK(marketing_->MergeLeads(&ctx, r, &survivor));
  }
  EXPECT_EQ(survivor.lead_id(), home);
  EXPECT_EQ(survivor.stage(), LEAD_STAGE_HANDED_OFF);
  EXPECT_EQ(survivor.contact().company(), "Acme");
  const Lead by_old_id = GetLead(work);
  EXPECT_EQ(by_old_id.lead_id(), home);
  EXPECT_EQ(by_old_id.merged_into_lead_id(), home);
  {
    grpc::ClientContext ctx;
    ListLeadsRequest r;
    ListLeadsResponse resp;
    ASSERT_GRPC_OK(marketing_->ListLeads(&ctx, r, &resp));
    ASSERT_EQ(resp.leads_size(), 1);
    EXPECT_EQ(resp.leads(0).lead_id(), home);
  }

  // Sales files the handoff under the survivor (LeadMerged, through the relay).
  ASSERT_TRUE(WaitFor(
      [&] {
        auto handoffs = Handoffs();
        return handoffs.size() == 1 && handoffs[0].lead().lead_id() == home;
      },
      absl::Seconds(10)));
  const sales::v1::Handoff handoff = Handoffs()[0];
  sales::v1::Rep rep;
  {
    grpc::ClientContext ctx;
    sales::v1::CreateRepRequest r;
    r.mutable_rep()->set_name("Ines");
    r.mutable_rep()->set_email("ines@corp.example");
    r.mutable_rep()->set_role(sales::v1::REP_ROLE_REP);
    ASSERT_GRPC_OK(sales_->CreateRep(&ctx, r, &rep));
  }
  sales::v1::AcceptHandoffResponse accepted;
  {
    grpc::ClientContext ctx;
    sales::v1::AssignHandoffRequest a;
    a.set_handoff_id(handoff.handoff_id());
    a.set_rep_id(rep.rep_id());
    sales::v1::Handoff out;
    ASSERT_GRPC_OK(sales_->AssignHandoff(&ctx, a, &out));
    grpc::ClientContext ctx2;
    sales::v1::AcceptHandoffRequest r;
    r.set_handoff_id(handoff.handoff_id());
    ASSERT_GRPC_OK(sales_->AcceptHandoff(&ctx2, r, &accepted));
  }
  EXPECT_EQ(accepted.opportunity().lead_id(), home);
  {
    grpc::ClientContext ctx;
    sales::v1::CloseOpportunityRequest r;
    r.set_opportunity_id(accepted.opportunity().opportunity_id());
    r.set_outcome(handoff::v1::OUTCOME_WON);
    r.mutable_amount()->set_currency_code("EUR");
    r.mutable_amount()->set_amount_minor(500'000);
    sales::v1::Opportunity out;
    ASSERT_GRPC_OK(sales_->CloseOpportunity(&ctx, r, &out));
  }
  ASSERT_TRUE(
      WaitFor([&] { return GetLead(work).stage() == LEAD_STAGE_CUSTOMER; }, absl::Seconds(10)));

  // Counted once: one person reached, captured, handed off, won; the deal credited
  // once under every model.
  const CampaignMetrics metrics = testing::CampaignMetrics(*marketing_, c);
  EXPECT_EQ(metrics.reach(), 1);
  EXPECT_EQ(metrics.leads_first_touched(), 1);
  EXPECT_EQ(metrics.won_deals(), 1);
  ASSERT_EQ(metrics.revenue_size(), 3);
  for (const auto& revenue : metrics.revenue()) {
    EXPECT_EQ(revenue.revenue().amount_minor(), 500'000) << AttributionModel_Name(revenue.model());
  }
  const gateway::v1::FunnelReport report = testing::FunnelReport(*views_, c);
  EXPECT_EQ(report.leads_captured(), 1);
  EXPECT_EQ(report.mqls(), 1);
  EXPECT_EQ(report.handed_off(), 1);
  EXPECT_EQ(report.accepted(), 1);
  EXPECT_EQ(report.won(), 1);
  ASSERT_EQ(report.won_revenue_size(), 1);
  EXPECT_EQ(report.won_revenue(0).amount_minor(), 500'000);

  // The journey by the old id is the person's: both captures, the merge, the deal.
  {
    grpc::ClientContext ctx;
    gateway::v1::GetLeadJourneyRequest r;
    r.set_lead_id(work);
    gateway::v1::LeadJourney journey;
    ASSERT_GRPC_OK(views_->GetLeadJourney(&ctx, r, &journey));
    EXPECT_EQ(journey.lead_id(), home);
    int captures = 0, merges = 0, won = 0;
    for (const auto& e : journey.events()) {
      captures += e.kind() == "captured";
      merges += e.kind() == "leads_merged";
      won += e.kind() == "won";
    }
    EXPECT_EQ(captures, 2);
    EXPECT_EQ(merges, 1);
    EXPECT_GE(won, 1);
  }
}

}  // namespace
}  // namespace funnel
