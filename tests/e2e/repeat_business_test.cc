// Issue 21's repeat-business scenario through the gateway: a customer touched by
// an upsell campaign is qualified again, lands with the rep who won the account
// (ahead of a rule that would send it elsewhere) as an expansion opportunity on the
// existing account, and its won revenue shows as expansion in the funnel report and
// in that campaign's attribution only.

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

class RepeatBusinessTest : public ::testing::Test {
 protected:
  RepeatBusinessTest() : stack_("repeat") {
    marketing_ =
        marketing::v1::MarketingService::NewStub(stack_.GatewayChannel(stack_.Key("MARKETING")));
    sales_ = sales::v1::SalesService::NewStub(stack_.GatewayChannel());
    views_ = gateway::v1::FunnelService::NewStub(stack_.GatewayChannel(stack_.Key("REVENUE_OPS")));
  }

  int64_t NewRep(const std::string& name) {
    grpc::ClientContext ctx;
    sales::v1::CreateRepRequest r;
    r.mutable_rep()->set_name(name);
    r.mutable_rep()->set_email(name + "@corp.example");
    r.mutable_rep()->set_role(sales::v1::REP_ROLE_REP);
    sales::v1::Rep out;
    const grpc::Status s = sales_->CreateRep(&ctx, r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.rep_id();
  }

  int64_t NewCampaign(const std::string& name) {
    grpc::ClientContext ctx;
    marketing::v1::CreateCampaignRequest r;
    r.mutable_campaign()->set_name(name);
    r.mutable_campaign()->set_channel(marketing::v1::CHANNEL_EMAIL);
    marketing::v1::Campaign out;
    const grpc::Status s = marketing_->CreateCampaign(&ctx, r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.campaign_id();
  }

  grpc::Status Qualify(int64_t lead_id, const std::string& note, marketing::v1::Lead* out) {
    grpc::ClientContext ctx;
    marketing::v1::QualifyLeadRequest r;
    r.set_lead_id(lead_id);
    r.set_note(note);
    return marketing_->QualifyLead(&ctx, r, out);
  }

  // The lead's handoff with this id once sales has it.
  sales::v1::Handoff HandoffInSales(const std::string& handoff_id) {
    sales::v1::Handoff out;
    WaitFor(
        [&] {
          grpc::ClientContext ctx;
          sales::v1::GetHandoffRequest r;
          r.set_handoff_id(handoff_id);
          return sales_->GetHandoff(&ctx, r, &out).ok();
        },
        absl::Seconds(10));
    return out;
  }

  // Accepts the handoff and closes its opportunity won for `amount_minor` USD.
  sales::v1::Opportunity AcceptAndWin(const std::string& handoff_id, int64_t amount_minor) {
    grpc::ClientContext ctx;
    sales::v1::AcceptHandoffRequest r;
    r.set_handoff_id(handoff_id);
    sales::v1::AcceptHandoffResponse accepted;
    grpc::Status s = sales_->AcceptHandoff(&ctx, r, &accepted);
    EXPECT_TRUE(s.ok()) << s.error_message();
    grpc::ClientContext close_ctx;
    sales::v1::CloseOpportunityRequest c;
    c.set_opportunity_id(accepted.opportunity().opportunity_id());
    c.set_outcome(handoff::v1::OUTCOME_WON);
    c.mutable_amount()->set_currency_code("USD");
    c.mutable_amount()->set_amount_minor(amount_minor);
    sales::v1::Opportunity won;
    s = sales_->CloseOpportunity(&close_ctx, c, &won);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return won;
  }

  marketing::v1::Lead GetLead(int64_t id) { return testing::GetLead(*marketing_, id); }

  FunnelStack stack_;
  std::unique_ptr<marketing::v1::MarketingService::Stub> marketing_;
  std::unique_ptr<sales::v1::SalesService::Stub> sales_;
  std::unique_ptr<gateway::v1::FunnelService::Stub> views_;
};

TEST_F(RepeatBusinessTest, AnUpsoldCustomerIsExpansionWithTheAccountOwner) {
  using namespace marketing::v1;
  for (const char* s : {"funnel.marketing.v1.MarketingService", "funnel.sales.v1.SalesService"}) {
    ASSERT_TRUE(
        testing::WaitForHealth(stack_.gateway_port(), s, testing::HealthCheckResponse::SERVING));
  }
  const int64_t owner = NewRep("ines");
  const int64_t other = NewRep("omar");
  {
    // Every new handoff goes to omar.
    grpc::ClientContext ctx;
    sales::v1::CreateRoutingRuleRequest r;
    r.mutable_rule()->set_name("everyone to omar");
    r.mutable_rule()->add_pool()->set_rep_id(other);
    sales::v1::RoutingRule out;
    ASSERT_GRPC_OK(sales_->CreateRoutingRule(&ctx, r, &out));
  }
  const int64_t launch = NewCampaign("Launch");
  const int64_t upsell = NewCampaign("Upsell: premium tier");

  // First sale: new business, which ines wins.
  CaptureLeadResponse captured;
  {
    grpc::ClientContext ctx;
    CaptureLeadRequest r;
    r.mutable_contact()->set_email("kai@bigco.example");
    r.mutable_contact()->set_company("BigCo");
    r.set_campaign_id(launch);
    r.set_touchpoint_type(handoff::v1::TOUCHPOINT_TYPE_DEMO_REQUEST);
    ASSERT_GRPC_OK(marketing_->CaptureLead(&ctx, r, &captured));
  }
  const int64_t lead_id = captured.lead().lead_id();
  Lead first;
  ASSERT_GRPC_OK(Qualify(lead_id, "wants a pilot", &first));
  const sales::v1::Handoff new_business = HandoffInSales(first.handoff_id());
  EXPECT_EQ(new_business.assigned_rep_id(), other);
  EXPECT_EQ(new_business.lead().business_type(), handoff::v1::BUSINESS_TYPE_NEW);
  {
    grpc::ClientContext ctx;
    sales::v1::AssignHandoffRequest r;
    r.set_handoff_id(first.handoff_id());
    r.set_rep_id(owner);
    sales::v1::Handoff out;
    ASSERT_GRPC_OK(sales_->AssignHandoff(&ctx, r, &out));
  }
  const sales::v1::Opportunity pilot = AcceptAndWin(first.handoff_id(), 1'000'000);
  ASSERT_TRUE(
      WaitFor([&] { return GetLead(lead_id).stage() == LEAD_STAGE_CUSTOMER; }, absl::Seconds(10)));
  const Lead customer = GetLead(lead_id);
  EXPECT_EQ(customer.sales_account_id(), pilot.account_id());
  EXPECT_EQ(customer.sales_contact_id(), pilot.contact_id());
  EXPECT_TRUE(customer.has_won_time());

  // The upsell campaign touches the customer, who is qualified again.
  {
    grpc::ClientContext ctx;
    RecordTouchpointRequest r;
    r.set_lead_id(lead_id);
    r.set_campaign_id(upsell);
    r.set_type(handoff::v1::TOUCHPOINT_TYPE_WEBINAR_ATTENDED);
    RecordTouchpointResponse out;
    ASSERT_GRPC_OK(marketing_->RecordTouchpoint(&ctx, r, &out));
  }
  Lead again;
  ASSERT_GRPC_OK(Qualify(lead_id, "asked about the premium tier", &again));
  ASSERT_NE(again.handoff_id(), first.handoff_id());
  const sales::v1::Handoff expansion = HandoffInSales(again.handoff_id());
  EXPECT_EQ(expansion.lead().business_type(), handoff::v1::BUSINESS_TYPE_EXPANSION);
  EXPECT_EQ(expansion.lead().account_id(), pilot.account_id());
  EXPECT_EQ(expansion.lead().first_touch_campaign_id(), upsell);
  EXPECT_EQ(expansion.assigned_rep_id(), owner) << "the account's owner, ahead of the rule";
  ASSERT_GE(expansion.assignments_size(), 1);
  EXPECT_EQ(expansion.assignments(0).reason(), sales::v1::ASSIGNMENT_REASON_ACCOUNT_OWNER);

  const sales::v1::Opportunity premium = AcceptAndWin(again.handoff_id(), 300'000);
  EXPECT_EQ(premium.account_id(), pilot.account_id());
  EXPECT_EQ(premium.owner_rep_id(), owner);
  EXPECT_EQ(premium.business_type(), handoff::v1::BUSINESS_TYPE_EXPANSION);
  EXPECT_EQ(pilot.business_type(), handoff::v1::BUSINESS_TYPE_NEW);
  ASSERT_TRUE(WaitFor(
      [&] {
        return testing::CampaignMetrics(*marketing_, upsell).won_deals() == 1 &&
               GetLead(lead_id).stage() == LEAD_STAGE_CUSTOMER;
      },
      absl::Seconds(10)));

  // Revenue: expansion apart from new business, in the funnel and per campaign.
  {
    const gateway::v1::FunnelReport report = testing::FunnelReport(*views_);
    EXPECT_EQ(report.won(), 2);
    ASSERT_EQ(report.won_revenue_size(), 1);
    EXPECT_EQ(report.won_revenue(0).amount_minor(), 1'300'000);
    ASSERT_EQ(report.new_business_won_revenue_size(), 1);
    EXPECT_EQ(report.new_business_won_revenue(0).amount_minor(), 1'000'000);
    ASSERT_EQ(report.expansion_won_revenue_size(), 1);
    EXPECT_EQ(report.expansion_won_revenue(0).amount_minor(), 300'000);
  }
  const CampaignMetrics upsold = testing::CampaignMetrics(*marketing_, upsell);
  const CampaignMetrics launched = testing::CampaignMetrics(*marketing_, launch);
  ASSERT_EQ(upsold.revenue_size(), 3);
  ASSERT_EQ(upsold.expansion_revenue_size(), 3);
  ASSERT_EQ(launched.revenue_size(), 3);
  ASSERT_EQ(launched.expansion_revenue_size(), 3);
  for (int i = 0; i < 3; ++i) {
    const auto model = AttributionModel_Name(upsold.revenue(i).model());
    // Only what touched the customer since the first win earns the expansion.
    EXPECT_EQ(upsold.revenue(i).revenue().amount_minor(), 300'000) << model;
    EXPECT_EQ(upsold.expansion_revenue(i).revenue().amount_minor(), 300'000) << model;
    EXPECT_EQ(launched.revenue(i).revenue().amount_minor(), 1'000'000) << model;
    EXPECT_EQ(launched.expansion_revenue(i).revenue().amount_minor(), 0) << model;
  }

  // The customer refers a colleague: sales sees who referred them, and the report
  // counts the referred deal's pipeline.
  CaptureLeadResponse referred;
  {
    grpc::ClientContext ctx;
    CaptureLeadRequest r;
    r.mutable_contact()->set_email("lee@otherco.example");
    r.mutable_contact()->set_company("OtherCo");
    r.set_referrer_lead_id(lead_id);
    ASSERT_GRPC_OK(marketing_->CaptureLead(&ctx, r, &referred));
    EXPECT_EQ(referred.lead().referrer_lead_id(), lead_id);
    grpc::ClientContext bad_ctx;
    r.set_referrer_lead_id(987654);
    CaptureLeadResponse none;
    const grpc::Status unknown = marketing_->CaptureLead(&bad_ctx, r, &none);
    EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_THAT(unknown.error_message(), ::testing::HasSubstr("referrer_lead_id"));
  }
  Lead lee;
  ASSERT_GRPC_OK(Qualify(referred.lead().lead_id(), "referred by a customer", &lee));
  const sales::v1::Handoff referral = HandoffInSales(lee.handoff_id());
  EXPECT_EQ(referral.lead().referrer_lead_id(), lead_id);
  EXPECT_EQ(referral.lead().referrer_contact_id(), pilot.contact_id());
  EXPECT_EQ(referral.lead().business_type(), handoff::v1::BUSINESS_TYPE_NEW);
  sales::v1::AcceptHandoffResponse accepted;
  {
    grpc::ClientContext ctx;
    sales::v1::AcceptHandoffRequest r;
    r.set_handoff_id(lee.handoff_id());
    ASSERT_GRPC_OK(sales_->AcceptHandoff(&ctx, r, &accepted));
  }
  EXPECT_EQ(accepted.opportunity().referrer_lead_id(), lead_id);
  EXPECT_EQ(accepted.opportunity().referrer_contact_id(), pilot.contact_id());
  {
    grpc::ClientContext ctx;
    sales::v1::UpdateOpportunityRequest r;
    r.mutable_opportunity()->set_opportunity_id(accepted.opportunity().opportunity_id());
    r.mutable_opportunity()->mutable_amount()->set_currency_code("USD");
    r.mutable_opportunity()->mutable_amount()->set_amount_minor(80'000);
    r.mutable_update_mask()->add_paths("amount");
    sales::v1::Opportunity out;
    ASSERT_GRPC_OK(sales_->UpdateOpportunity(&ctx, r, &out));
  }
  {
    const gateway::v1::FunnelReport report = testing::FunnelReport(*views_);
    ASSERT_EQ(report.referral_sourced_pipeline_size(), 1);
    EXPECT_EQ(report.referral_sourced_pipeline(0).amount_minor(), 80'000);
    ASSERT_EQ(report.marketing_sourced_pipeline_size(), 1);
    EXPECT_EQ(report.marketing_sourced_pipeline(0).amount_minor(), 80'000);
  }
}

}  // namespace
}  // namespace funnel
