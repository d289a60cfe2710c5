// Issue 5's scenario through the gateway: a lead made hot by touchpoints appears in
// the sales inbox within a second without any further call; rejecting it shows it
// RECYCLED in marketing with the reason; a second qualification creates a new
// handoff; accepting and closing it won changes the campaign's attributed revenue
// and ROI by exactly the deal amount.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "funnel/gateway/v1/funnel_service.grpc.pb.h"
#include "funnel/marketing/v1/marketing_service.grpc.pb.h"
#include "funnel/sales/v1/sales_service.grpc.pb.h"
#include "tests/e2e/e2e_calls.h"
#include "tests/testing/stack.h"

namespace funnel {
namespace {

using ::funnel::testing::FunnelStack;

class HandoffFlowTest : public ::testing::Test {
 protected:
  HandoffFlowTest() : stack_("hoflow") {
    marketing_ =
        marketing::v1::MarketingService::NewStub(stack_.GatewayChannel(stack_.Key("MARKETING")));
    sales_ = sales::v1::SalesService::NewStub(stack_.GatewayChannel());
  }

  // Polls `check` until it holds or `timeout` passes; returns how long it took.
  static absl::StatusOr<absl::Duration> WaitFor(const std::function<bool()>& check,
                                                absl::Duration timeout) {
    const absl::Time start = absl::Now();
    while (absl::Now() - start < timeout) {
      if (check()) return absl::Now() - start;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return absl::DeadlineExceededError("condition not met");
  }

  std::vector<sales::v1::Handoff> PendingHandoffs() {
    grpc::ClientContext ctx;
    sales::v1::ListHandoffsRequest r;
    r.set_state(sales::v1::HANDOFF_STATE_PENDING);
    sales::v1::ListHandoffsResponse resp;
    if (!sales_->ListHandoffs(&ctx, r, &resp).ok()) return {};
    return {resp.handoffs().begin(), resp.handoffs().end()};
  }

  marketing::v1::Lead GetLead(int64_t id) { return testing::GetLead(*marketing_, id); }

  marketing::v1::CampaignMetrics Metrics(int64_t campaign_id) {
    return testing::CampaignMetrics(*marketing_, campaign_id);
  }

  FunnelStack stack_;
  std::unique_ptr<marketing::v1::MarketingService::Stub> marketing_;
  std::unique_ptr<sales::v1::SalesService::Stub> sales_;
};

TEST_F(HandoffFlowTest, HotLeadReachesSalesAndTheOutcomeComesBack) {
  using namespace marketing::v1;
  for (const char* s : {"funnel.marketing.v1.MarketingService", "funnel.sales.v1.SalesService"}) {
    ASSERT_TRUE(
        testing::WaitForHealth(stack_.gateway_port(), s, testing::HealthCheckResponse::SERVING));
  }
  Campaign campaign;
  {
    grpc::ClientContext ctx;
    CreateCampaignRequest r;
    r.mutable_campaign()->set_name("Trade show");
    r.mutable_campaign()->set_channel(CHANNEL_EVENT);
    r.mutable_campaign()->mutable_actual_cost()->set_currency_code("USD");
    r.mutable_campaign()->mutable_actual_cost()->set_amount_minor(1'000'000);
    ASSERT_GRPC_OK(marketing_->CreateCampaign(&ctx, r, &campaign));
  }
  sales::v1::Rep rep;
  {
    grpc::ClientContext ctx;
    sales::v1::CreateRepRequest r;
    r.mutable_rep()->set_name("Ravi");
    r.mutable_rep()->set_email("ravi@corp.example");
    r.mutable_rep()->set_role(sales::v1::REP_ROLE_REP);
    ASSERT_GRPC_OK(sales_->CreateRep(&ctx, r, &rep));
  }
  CaptureLeadResponse captured;
  {
    grpc::ClientContext ctx;
    CaptureLeadRequest r;
    r.mutable_contact()->set_email("lin@example.com");
    r.mutable_contact()->set_company("Lin Labs");
    r.set_campaign_id(campaign.campaign_id());
    r.set_touchpoint_type(handoff::v1::TOUCHPOINT_TYPE_EVENT_ATTENDED);  // 15
    ASSERT_GRPC_OK(marketing_->CaptureLead(&ctx, r, &captured));
  }
  const int64_t lead_id = captured.lead().lead_id();
  {
    grpc::ClientContext ctx;
    RecordTouchpointRequest r;
    r.set_lead_id(lead_id);
    r.set_campaign_id(campaign.campaign_id());
    r.set_type(handoff::v1::TOUCHPOINT_TYPE_DEMO_REQUEST);  // +40 = 55
    RecordTouchpointResponse resp;
    ASSERT_GRPC_OK(marketing_->RecordTouchpoint(&ctx, r, &resp));
    EXPECT_EQ(resp.lead().temperature(), handoff::v1::TEMPERATURE_WARM);
  }
  {
    grpc::ClientContext ctx;
    RecordTouchpointRequest r;
    r.set_lead_id(lead_id);
    r.set_campaign_id(campaign.campaign_id());
    r.set_type(handoff::v1::TOUCHPOINT_TYPE_WEB_VISIT);  // +3 ...
    RecordTouchpointResponse resp;
    ASSERT_GRPC_OK(marketing_->RecordTouchpoint(&ctx, r, &resp));
    grpc::ClientContext ctx2;
    r.set_type(handoff::v1::TOUCHPOINT_TYPE_EMAIL_CLICK);  // +5 = 63: hot
    ASSERT_GRPC_OK(marketing_->RecordTouchpoint(&ctx2, r, &resp));
    ASSERT_EQ(resp.lead().stage(), LEAD_STAGE_MARKETING_QUALIFIED);
  }
  // It shows up in sales' inbox within a second, with no further call.
  auto in_inbox = WaitFor([&] { return PendingHandoffs().size() == 1; }, absl::Seconds(1));
  ASSERT_TRUE(in_inbox.ok()) << "handoff did not reach sales within a second";
  const sales::v1::Handoff first = PendingHandoffs()[0];
  EXPECT_EQ(first.lead().lead_id(), lead_id);
  EXPECT_EQ(first.lead().contact().company(), "Lin Labs");
  ASSERT_TRUE(
      WaitFor([&] { return GetLead(lead_id).stage() == LEAD_STAGE_HANDED_OFF; }, absl::Seconds(5))
          .ok());

  // Rejected: marketing recycles it with the reason.
  {
    grpc::ClientContext ctx;
    sales::v1::RejectHandoffRequest r;
    r.set_handoff_id(first.handoff_id());
    r.set_reason(handoff::v1::REJECTION_REASON_NO_BUDGET);
    r.set_note("budget frozen until Q2");
    sales::v1::Handoff out;
    ASSERT_GRPC_OK(sales_->RejectHandoff(&ctx, r, &out));
  }
  ASSERT_TRUE(
      WaitFor([&] { return GetLead(lead_id).stage() == LEAD_STAGE_RECYCLED; }, absl::Seconds(5))
          .ok());
  Lead recycled = GetLead(lead_id);
  EXPECT_EQ(recycled.recycle_reason(), handoff::v1::REJECTION_REASON_NO_BUDGET);
  EXPECT_DOUBLE_EQ(recycled.score(), 20);  // back to the warm threshold
  EXPECT_EQ(recycled.temperature(), handoff::v1::TEMPERATURE_WARM);

  // Qualified again: a new handoff.
  {
    grpc::ClientContext ctx;
    QualifyLeadRequest r;
    r.set_lead_id(lead_id);
    r.set_note("budget unfrozen early");
    Lead out;
    ASSERT_GRPC_OK(marketing_->QualifyLead(&ctx, r, &out));
    EXPECT_NE(out.handoff_id(), first.handoff_id());
  }
  ASSERT_TRUE(WaitFor([&] { return PendingHandoffs().size() == 1; }, absl::Seconds(2)).ok());
  const sales::v1::Handoff second = PendingHandoffs()[0];
  EXPECT_NE(second.handoff_id(), first.handoff_id());

  const CampaignMetrics before = Metrics(campaign.campaign_id());
  sales::v1::AcceptHandoffResponse accepted;
  {
    grpc::ClientContext ctx;
    sales::v1::AssignHandoffRequest a;
    a.set_handoff_id(second.handoff_id());
    a.set_rep_id(rep.rep_id());
    sales::v1::Handoff out;
    ASSERT_GRPC_OK(sales_->AssignHandoff(&ctx, a, &out));
    grpc::ClientContext ctx2;
    sales::v1::AcceptHandoffRequest r;
    r.set_handoff_id(second.handoff_id());
    ASSERT_GRPC_OK(sales_->AcceptHandoff(&ctx2, r, &accepted));
  }
  ASSERT_TRUE(WaitFor([&] { return GetLead(lead_id).stage() == LEAD_STAGE_SALES_ACCEPTED; },
                      absl::Seconds(5))
                  .ok());
  {
    grpc::ClientContext ctx;
    sales::v1::CloseOpportunityRequest c;
    c.set_opportunity_id(accepted.opportunity().opportunity_id());
    c.set_outcome(handoff::v1::OUTCOME_WON);
    c.mutable_amount()->set_currency_code("USD");
    c.mutable_amount()->set_amount_minor(2'345'678);
    sales::v1::Opportunity out;
    ASSERT_GRPC_OK(sales_->CloseOpportunity(&ctx, c, &out));
  }
  ASSERT_TRUE(
      WaitFor([&] { return GetLead(lead_id).stage() == LEAD_STAGE_CUSTOMER; }, absl::Seconds(5))
          .ok());
  const CampaignMetrics after = Metrics(campaign.campaign_id());
  ASSERT_EQ(after.revenue_size(), 3);
  for (int i = 0; i < 3; ++i) {
    // Every touchpoint was this campaign's: each model credits it the whole deal.
    EXPECT_EQ(
        after.revenue(i).revenue().amount_minor() - before.revenue(i).revenue().amount_minor(),
        2'345'678)
        << AttributionModel_Name(after.revenue(i).model());
    EXPECT_NEAR(after.revenue(i).roi() - before.revenue(i).roi(), 2'345'678.0 / 1'000'000.0, 1e-12);
  }
  EXPECT_EQ(after.won_deals(), 1);
  EXPECT_EQ(after.accepted(), 1);
  ASSERT_EQ(after.rejected_by_reason_size(), 1);
  EXPECT_EQ(after.rejected_by_reason(0).reason(), handoff::v1::REJECTION_REASON_NO_BUDGET);
  EXPECT_EQ(after.mqls(), 1);        // one lead
  EXPECT_EQ(after.handed_off(), 2);  // two handoffs delivered

  // Revenue ops sees the whole funnel of this scenario through the gateway.
  {
    auto views =
        gateway::v1::FunnelService::NewStub(stack_.GatewayChannel(stack_.Key("REVENUE_OPS")));
    grpc::ClientContext ctx;
    gateway::v1::GetFunnelReportRequest r;
    r.set_campaign_id(campaign.campaign_id());
    gateway::v1::FunnelReport report;
    ASSERT_GRPC_OK(views->GetFunnelReport(&ctx, r, &report));
    EXPECT_EQ(report.leads_captured(), 1);
    EXPECT_EQ(report.mqls(), 1);
    EXPECT_EQ(report.handed_off(), 1);  // one lead, handed over twice
    EXPECT_EQ(report.rehandoffs(), 1);
    EXPECT_EQ(report.accepted(), 1);
    ASSERT_EQ(report.rejected_by_reason_size(), 1);
    EXPECT_EQ(report.rejected_by_reason(0).reason(), handoff::v1::REJECTION_REASON_NO_BUDGET);
    EXPECT_EQ(report.opportunities(), 1);
    EXPECT_EQ(report.won(), 1);
    ASSERT_EQ(report.won_revenue_size(), 1);
    EXPECT_EQ(report.won_revenue(0).amount_minor(), 2'345'678);
    ASSERT_EQ(report.conversions_size(), 4);
    // Every step counts distinct leads: the re-handoff pushes no rate past 1.
    for (const auto& c : report.conversions()) EXPECT_DOUBLE_EQ(c.rate(), 1.0) << c.to_step();
    // A marketer may not read it, the REVENUE_OPS key may not change anything.
    grpc::ClientContext c2;
    sales::v1::CloseOpportunityRequest close;
    close.set_opportunity_id(1);
    sales::v1::Opportunity out;
    auto ops_sales =
        sales::v1::SalesService::NewStub(stack_.GatewayChannel(stack_.Key("REVENUE_OPS")));
    EXPECT_EQ(ops_sales->CloseOpportunity(&c2, close, &out).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  // The same funnel for a segment (marketing's notion; sales follows its people).
  for (auto [stage, expected] : std::vector<std::pair<LeadStage, int>>{
           {LEAD_STAGE_CUSTOMER, 1}, {LEAD_STAGE_DISQUALIFIED, 0}}) {
    grpc::ClientContext c1;
    CreateSegmentRequest seg;
    seg.mutable_segment()->set_name(LeadStage_Name(stage));
    seg.mutable_segment()->mutable_criteria()->add_stages(stage);
    Segment segment;
    ASSERT_GRPC_OK(marketing_->CreateSegment(&c1, seg, &segment));
    auto views =
        gateway::v1::FunnelService::NewStub(stack_.GatewayChannel(stack_.Key("REVENUE_OPS")));
    grpc::ClientContext c2;
    gateway::v1::GetFunnelReportRequest r;
    r.set_segment_id(segment.segment_id());
    gateway::v1::FunnelReport report;
    ASSERT_GRPC_OK(views->GetFunnelReport(&c2, r, &report));
    EXPECT_EQ(report.leads_captured(), expected) << LeadStage_Name(stage);
    EXPECT_EQ(report.mqls(), expected);
    EXPECT_EQ(report.opportunities(), expected);
    EXPECT_EQ(report.won(), expected);
    EXPECT_EQ(report.won_revenue_size(), expected);
    for (const auto& c : report.conversions()) {
      EXPECT_GE(c.rate(), 0.0);
      EXPECT_LE(c.rate(), 1.0) << c.from_step() << " -> " << c.to_step();
    }
  }
  {
    auto views =
        gateway::v1::FunnelService::NewStub(stack_.GatewayChannel(stack_.Key("REVENUE_OPS")));
    grpc::ClientContext ctx;
    gateway::v1::GetFunnelReportRequest r;
    r.set_segment_id(987654);
    gateway::v1::FunnelReport report;
    grpc::Status s = views->GetFunnelReport(&ctx, r, &report);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_THAT(s.error_message(), ::testing::HasSubstr("segment 987654"));
  }

  // The lead's journey across both departments, in time order.
  {
    auto ops =
        gateway::v1::FunnelService::NewStub(stack_.GatewayChannel(stack_.Key("REVENUE_OPS")));
    grpc::ClientContext ctx;
    gateway::v1::GetLeadJourneyRequest r;
    r.set_email("LIN@example.com");
    gateway::v1::LeadJourney journey;
    ASSERT_GRPC_OK(ops->GetLeadJourney(&ctx, r, &journey));
    EXPECT_EQ(journey.lead_id(), lead_id);
    std::vector<std::string> kinds;
    for (const auto& e : journey.events()) {
      if (e.kind() != "touchpoint" && e.kind() != "temperature_changed" &&
          e.kind() != "stage_changed") {
        kinds.push_back(e.kind());
      }
    }
    // Sales queues each handoff on arrival (no routing rule here), a moment before
    // marketing's relay records the delivery.
    EXPECT_THAT(kinds, ::testing::ElementsAre("captured", "qualified", "queued", "handed_off",
                                              "rejected", "qualified", "queued", "handed_off",
                                              "assigned", "accepted", "won"));
    for (int i = 1; i < journey.events_size(); ++i) {
      EXPECT_GE(journey.events(i).occur_time().seconds(),
                journey.events(i - 1).occur_time().seconds());
    }
    int touches_with_campaign = 0;
    for (const auto& e : journey.events())
      touches_with_campaign += e.kind() == "touchpoint" && e.campaign_id() != 0;
    EXPECT_EQ(touches_with_campaign, 4);
    EXPECT_TRUE(journey.redacted().empty());
  }
  {
    // A salesperson sees the handed-off lead's history, but not campaigns or scores.
    auto rep_views = gateway::v1::FunnelService::NewStub(
        stack_.GatewayChannel(stack_.AddKey("SALES_REP", "ravi", rep.rep_id())));
    grpc::ClientContext ctx;
    gateway::v1::GetLeadJourneyRequest r;
    r.set_lead_id(lead_id);
    gateway::v1::LeadJourney journey;
    ASSERT_GRPC_OK(rep_views->GetLeadJourney(&ctx, r, &journey));
    EXPECT_THAT(journey.redacted(), ::testing::ElementsAre("campaigns", "scores"));
    for (const auto& e : journey.events()) {
      EXPECT_EQ(e.campaign_id(), 0) << e.kind();
      EXPECT_NE(e.kind(), "temperature_changed");
    }
    // ... and nothing of a lead marketing never handed over.
    grpc::ClientContext c2;
    CaptureLeadRequest cold;
    cold.mutable_contact()->set_email("cold@example.com");
    CaptureLeadResponse cold_lead;
    ASSERT_GRPC_OK(marketing_->CaptureLead(&c2, cold, &cold_lead));
    // Not even that it exists: the answer is the one for a lead that does not.
    grpc::ClientContext c3;
    r.set_lead_id(cold_lead.lead().lead_id());
    const grpc::Status kept = rep_views->GetLeadJourney(&c3, r, &journey);
    grpc::ClientContext c4;
    r.set_lead_id(cold_lead.lead().lead_id() + 1000);
    const grpc::Status missing = rep_views->GetLeadJourney(&c4, r, &journey);
    EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(kept.error_code(), missing.error_code());
    EXPECT_EQ(kept.error_message(),
              absl::StrReplaceAll(missing.error_message(),
                                  {{absl::StrCat(cold_lead.lead().lead_id() + 1000),
                                    absl::StrCat(cold_lead.lead().lead_id())}}));
    grpc::ClientContext c5, c6;
    gateway::v1::GetLeadJourneyRequest by_email;
    by_email.set_email("cold@example.com");
    const grpc::Status kept_by_email = rep_views->GetLeadJourney(&c5, by_email, &journey);
    by_email.set_email("nobody@example.com");
    const grpc::Status missing_by_email = rep_views->GetLeadJourney(&c6, by_email, &journey);
    EXPECT_EQ(kept_by_email.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(kept_by_email.error_message(), missing_by_email.error_message());
  }

  // With sales down the report fails, naming it, instead of showing half a funnel.
  stack_.Kill(testing::FunnelStack::kSales);
  {
    auto views =
        gateway::v1::FunnelService::NewStub(stack_.GatewayChannel(stack_.Key("REVENUE_OPS")));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    gateway::v1::FunnelReport report;
    grpc::Status s = views->GetFunnelReport(&ctx, gateway::v1::GetFunnelReportRequest(), &report);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_THAT(s.error_message(), ::testing::HasSubstr("sales_service"));
  }
  stack_.Start(testing::FunnelStack::kSales);

  // Nothing is left in either outbox.
  ASSERT_TRUE(WaitFor(
                  [&] {
                    return stack_.marketing_db().QueryInt(
                               "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL") == 0 &&
                           stack_.sales_db().QueryInt(
                               "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL") == 0;
                  },
                  absl::Seconds(5))
                  .ok());
}

}  // namespace
}  // namespace funnel
