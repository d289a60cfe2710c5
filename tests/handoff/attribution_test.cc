#include "marketing_service/attribution.h"

#include <gtest/gtest.h>

#include <map>

#include "handoff/outbox_relay.h"

namespace funnel::marketing {
namespace {

std::map<std::pair<int, int64_t>, int64_t> ByModel(const std::vector<Credit>& credits) {
  std::map<std::pair<int, int64_t>, int64_t> out;
  for (const Credit& c : credits) out[{c.model, c.campaign_id}] += c.amount_minor;
  return out;
}

TEST(AttributionTest, FirstAndLastTouchTakeTheWholeAmount) {
  auto m = ByModel(Attribute(1000, 7, 9, {7, 8, 9}));
  EXPECT_EQ((m[{v1::ATTRIBUTION_MODEL_FIRST_TOUCH, 7}]), 1000);
  EXPECT_EQ((m[{v1::ATTRIBUTION_MODEL_LAST_TOUCH, 9}]), 1000);
}

TEST(AttributionTest, LinearSplitsPerTouchAndSumsExactly) {
  // 1000 over 3 touches: 334, 333, 333; campaign 7 was touched twice.
  auto m = ByModel(Attribute(1000, 7, 8, {7, 8, 7}));
  EXPECT_EQ((m[{v1::ATTRIBUTION_MODEL_LINEAR, 7}]), 334 + 333);
  EXPECT_EQ((m[{v1::ATTRIBUTION_MODEL_LINEAR, 8}]), 333);
  int64_t linear = 0;
  for (const Credit& c : Attribute(999'999'999, 1, 2, {1, 2, 3, 4, 5, 6, 7})) {
    if (c.model == v1::ATTRIBUTION_MODEL_LINEAR) linear += c.amount_minor;
  }
  EXPECT_EQ(linear, 999'999'999);
}

TEST(AttributionTest, NoCampaignsCreditNothing) { EXPECT_TRUE(Attribute(500, 0, 0, {}).empty()); }

handoff::v1::Money Money(const std::string& currency, int64_t minor) {
  handoff::v1::Money m;
  m.set_currency_code(currency);
  m.set_amount_minor(minor);
  return m;
}

TEST(ReportRevenueTest, ACampaignWithoutCostShowsItsRevenueAndNoRoi) {
  const v1::AttributedRevenue line =
      ReportRevenue(v1::ATTRIBUTION_MODEL_FIRST_TOUCH, {{"USD", 1'100'000}}, {});
  EXPECT_EQ(line.revenue().currency_code(), "USD");
  EXPECT_EQ(line.revenue().amount_minor(), 1'100'000);
  EXPECT_FALSE(line.has_roi());
  ASSERT_EQ(line.revenue_by_currency_size(), 1);
  // A zero cost is no cost: no ratio to divide by.
  EXPECT_FALSE(
      ReportRevenue(v1::ATTRIBUTION_MODEL_LINEAR, {{"USD", 5}}, Money("USD", 0)).has_roi());
}

TEST(ReportRevenueTest, RevenueIsReportedPerCurrencyAndRoiOnlyInTheCostsCurrency) {
  const v1::AttributedRevenue same =
      ReportRevenue(v1::ATTRIBUTION_MODEL_FIRST_TOUCH, {{"USD", 3'000}}, Money("USD", 1'000));
  ASSERT_TRUE(same.has_roi());
  EXPECT_DOUBLE_EQ(same.roi(), 2.0);
  const v1::AttributedRevenue nothing_won =
      ReportRevenue(v1::ATTRIBUTION_MODEL_FIRST_TOUCH, {}, Money("USD", 1'000));
  EXPECT_EQ(nothing_won.revenue().amount_minor(), 0);
  EXPECT_DOUBLE_EQ(nothing_won.roi(), -1.0);
  const v1::AttributedRevenue mixed = ReportRevenue(
      v1::ATTRIBUTION_MODEL_FIRST_TOUCH, {{"EUR", 700}, {"USD", 3'000}}, Money("USD", 1'000));
  EXPECT_EQ(mixed.revenue().amount_minor(), 3'000);
  EXPECT_FALSE(mixed.has_roi());  // EUR cannot be weighed against a USD cost
  ASSERT_EQ(mixed.revenue_by_currency_size(), 2);
  EXPECT_EQ(mixed.revenue_by_currency(0).currency_code(), "EUR");
  EXPECT_EQ(mixed.revenue_by_currency(0).amount_minor(), 700);
  const v1::AttributedRevenue other =
      ReportRevenue(v1::ATTRIBUTION_MODEL_FIRST_TOUCH, {{"EUR", 700}}, Money("USD", 1'000));
  EXPECT_EQ(other.revenue().currency_code(), "USD");
  EXPECT_EQ(other.revenue().amount_minor(), 0);
  EXPECT_FALSE(other.has_roi());
  // No cost and several currencies: no single figure to show.
  EXPECT_FALSE(
      ReportRevenue(v1::ATTRIBUTION_MODEL_FIRST_TOUCH, {{"EUR", 1}, {"USD", 2}}, {}).has_revenue());
}

}  // namespace
}  // namespace funnel::marketing

namespace funnel::handoff {
namespace {

TEST(RelayTest, EveryEventKindHasItsContractMethod) {
  EXPECT_EQ(MethodFor(*KindFromName("LeadHandoff")),
            "/funnel.handoff.v1.HandoffInboxService/SubmitLead");
  EXPECT_EQ(MethodFor(*KindFromName("LeadErasure")),
            "/funnel.handoff.v1.HandoffInboxService/EraseLead");
  EXPECT_EQ(MethodFor(*KindFromName("HandoffDecision")),
            "/funnel.handoff.v1.HandoffFeedbackService/ReportDecision");
  EXPECT_EQ(MethodFor(*KindFromName("DealOutcome")),
            "/funnel.handoff.v1.HandoffFeedbackService/ReportOutcome");
  EXPECT_EQ(KindFromName("Bogus"), std::nullopt);
}

TEST(RelayTest, BackoffDoublesUpToTheCapWithBoundedJitter) {
  const absl::Duration initial = absl::Milliseconds(200), cap = absl::Seconds(30);
  EXPECT_EQ(RetryBackoff(1, initial, cap, 0.5), absl::Milliseconds(200));
  EXPECT_EQ(RetryBackoff(2, initial, cap, 0.5), absl::Milliseconds(400));
  EXPECT_EQ(RetryBackoff(4, initial, cap, 0.5), absl::Milliseconds(1600));
  EXPECT_EQ(RetryBackoff(40, initial, cap, 0.5), cap);
  EXPECT_EQ(RetryBackoff(1, initial, cap, 0.0), absl::Milliseconds(160));
  EXPECT_LT(RetryBackoff(1, initial, cap, 0.999), absl::Milliseconds(241));
}

}  // namespace
}  // namespace funnel::handoff
