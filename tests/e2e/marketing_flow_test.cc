// Issue 3's scenario through the gateway, as a grpcurl user would play it (with
// `buf curl` and JSON): a campaign is created and activated, a lead captured twice
// under different letter case stays one lead, touchpoints take it from COLD to WARM
// to HOT, an opted-out lead is never qualified, and the campaign's metrics match
// what was recorded.

#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "funnel/marketing/v1/marketing_service.pb.h"
#include "tests/testing/stack.h"

namespace funnel {
namespace {

using ::funnel::testing::BufCurl;
using ::funnel::testing::FunnelStack;
using ::testing::HasSubstr;

class MarketingFlowTest : public ::testing::Test {
 protected:
  MarketingFlowTest() : stack_("mkflow") {}

  // Calls MarketingService/`method` with a JSON body and parses the JSON answer.
  template <typename Response>
  Response Call(const std::string& method, const std::string& json) {
    auto result = BufCurl(absl::StrCat("-d '", json, "' http://127.0.0.1:", stack_.gateway_port(),
                                       "/funnel.marketing.v1.MarketingService/", method),
                          stack_.Key("MARKETING"));
    EXPECT_EQ(result.exit_code, 0) << method << ": " << result.output;
    Response response;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(result.output, &response).ok())
        << result.output;
    return response;
  }

  FunnelStack stack_;
};

TEST_F(MarketingFlowTest, CampaignToHotLeadThroughTheGateway) {
  using marketing::v1::Campaign;
  using marketing::v1::CaptureLeadResponse;
  using marketing::v1::RecordTouchpointResponse;
  ASSERT_GT(stack_.gateway_port(), 0);
  ASSERT_TRUE(testing::WaitForHealth(stack_.gateway_port(), "funnel.marketing.v1.MarketingService",
                                     testing::HealthCheckResponse::SERVING));

  Campaign campaign = Call<Campaign>(
      "CreateCampaign", R"({"campaign":{"name":"Autumn webinar","channel":"CHANNEL_WEBINAR",)"
                        R"("budget":{"currency_code":"USD","amount_minor":"500000"},)"
                        R"("actual_cost":{"currency_code":"USD","amount_minor":"90000"}}})");
  ASSERT_GT(campaign.campaign_id(), 0);
  const std::string id = absl::StrCat(campaign.campaign_id());
  campaign =
      Call<Campaign>("UpdateCampaign",
                     absl::StrCat(R"({"campaign":{"campaign_id":")", id,
                                  R"(","state":"CAMPAIGN_STATE_ACTIVE"},"update_mask":"state"})"));
  EXPECT_EQ(campaign.state(), marketing::v1::CAMPAIGN_STATE_ACTIVE);

  auto first = Call<CaptureLeadResponse>(
      "CaptureLead",
      absl::StrCat(R"({"contact":{"email":"Ada@Example.com","first_name":"Ada"},"campaign_id":")",
                   id, R"(","touchpoint_type":"TOUCHPOINT_TYPE_EMAIL_CLICK"})"));
  auto second = Call<CaptureLeadResponse>(
      "CaptureLead", absl::StrCat(R"({"contact":{"email":"  ada@EXAMPLE.COM "},"campaign_id":")",
                                  id, R"(","touchpoint_type":"TOUCHPOINT_TYPE_WEB_VISIT"})"));
  EXPECT_TRUE(first.created());
  EXPECT_FALSE(second.created());
  EXPECT_EQ(first.lead().lead_id(), second.lead().lead_id());
  EXPECT_EQ(second.lead().contact().email(), "ada@example.com");
  EXPECT_EQ(second.lead().temperature(), handoff::v1::TEMPERATURE_COLD);  // 5 + 3
  const std::string lead = absl::StrCat(first.lead().lead_id());

  auto touch = [&](const char* type) {
    return Call<RecordTouchpointResponse>(
        "RecordTouchpoint", absl::StrCat(R"({"lead_id":")", lead, R"(","campaign_id":")", id,
                                         R"(","type":")", type, R"("})"));
  };
  auto warm = touch("TOUCHPOINT_TYPE_WEBINAR_ATTENDED");  // 8 + 15 = 23
  EXPECT_DOUBLE_EQ(warm.lead().score(), 23);
  EXPECT_EQ(warm.lead().temperature(), handoff::v1::TEMPERATURE_WARM);
  auto hot = touch("TOUCHPOINT_TYPE_DEMO_REQUEST");  // 23 + 40 = 63
  EXPECT_DOUBLE_EQ(hot.lead().score(), 63);
  EXPECT_EQ(hot.lead().temperature(), handoff::v1::TEMPERATURE_HOT);
  EXPECT_EQ(hot.lead().stage(), marketing::v1::LEAD_STAGE_MARKETING_QUALIFIED);

  // An opted-out person turns hot but is never qualified.
  auto bob = Call<CaptureLeadResponse>(
      "CaptureLead", absl::StrCat(R"({"contact":{"email":"bob@example.com"},"campaign_id":")", id,
                                  R"(","touchpoint_type":"TOUCHPOINT_TYPE_DEMO_REQUEST"})"));
  Call<marketing::v1::UnsubscribeResponse>("Unsubscribe", R"({"email":"BOB@example.com"})");
  auto bob_hot = Call<RecordTouchpointResponse>(
      "RecordTouchpoint",
      absl::StrCat(R"({"lead_id":")", bob.lead().lead_id(), R"(","campaign_id":")", id,
                   R"(","type":"TOUCHPOINT_TYPE_DEMO_REQUEST"})"));
  EXPECT_EQ(bob_hot.lead().temperature(), handoff::v1::TEMPERATURE_HOT);
  EXPECT_EQ(bob_hot.lead().stage(), marketing::v1::LEAD_STAGE_NURTURING);
  auto refused =
      BufCurl(absl::StrCat("-d '{\"lead_id\":\"", bob.lead().lead_id(),
                           "\",\"note\":\"try\"}' http://127.0.0.1:", stack_.gateway_port(),
                           "/funnel.marketing.v1.MarketingService/QualifyLead"),
              stack_.Key("MARKETING"));
  EXPECT_THAT(refused.output, HasSubstr("failed_precondition"));
  EXPECT_THAT(refused.output, HasSubstr("opted out"));

  auto metrics = Call<marketing::v1::CampaignMetrics>(
      "GetCampaignMetrics", absl::StrCat(R"({"campaign_id":")", id, R"("})"));
  EXPECT_EQ(metrics.reach(), 1);                // Ada; Bob opted out
  EXPECT_EQ(metrics.leads_first_touched(), 2);  // Ada and Bob
  EXPECT_EQ(metrics.mqls(), 1);
  EXPECT_EQ(metrics.cost_per_lead().amount_minor(), 45000);
  EXPECT_EQ(metrics.cost_per_mql().amount_minor(), 90000);
  int64_t touches = 0;
  for (const auto& t : metrics.touchpoints_by_type()) touches += t.count();
  EXPECT_EQ(touches, 6);
}

}  // namespace
}  // namespace funnel
