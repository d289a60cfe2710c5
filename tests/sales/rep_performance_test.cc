#include "sales_service/rep_performance.h"

#include <gtest/gtest.h>

namespace funnel::sales {
namespace {

TEST(RepPerformanceTest, WonRevenueInTheQuotasCurrencyOthersBesideIt) {
  v1::RepPerformance perf;
  perf.mutable_quota()->mutable_revenue_target()->set_currency_code("EUR");
  perf.mutable_quota()->mutable_revenue_target()->set_amount_minor(1000);
  const std::string currency = AddClosedDeals({{v1::STAGE_CLOSED_WON, "EUR", 400, 2 * 86400.0},
                                               {v1::STAGE_CLOSED_WON, "USD", 300, 4 * 86400.0},
                                               {v1::STAGE_CLOSED_WON, "USD", 200, 6 * 86400.0},
                                               {v1::STAGE_CLOSED_LOST, "EUR", 999, 86400.0}},
                                              &perf);
  EXPECT_EQ(currency, "EUR");
  EXPECT_EQ(perf.closed_won().amount_minor(), 400);
  ASSERT_EQ(perf.other_currency_won_size(), 1);
  EXPECT_EQ(perf.other_currency_won(0).currency_code(), "USD");
  EXPECT_EQ(perf.other_currency_won(0).amount_minor(), 500);
  EXPECT_DOUBLE_EQ(perf.attainment_percent(), 40);
  EXPECT_DOUBLE_EQ(perf.win_rate(), 0.75);
  EXPECT_DOUBLE_EQ(perf.average_sales_cycle_days(), 4);
}

TEST(RepPerformanceTest, WithoutAQuotaTheFirstWonCurrencyCountsAndNothingWonIsZero) {
  v1::RepPerformance perf;
  EXPECT_EQ(
      AddClosedDeals({{v1::STAGE_CLOSED_LOST, "GBP", 10, 0}, {v1::STAGE_CLOSED_WON, "USD", 50, 0}},
                     &perf),
      "USD");
  EXPECT_EQ(perf.closed_won().amount_minor(), 50);
  v1::RepPerformance none;
  EXPECT_EQ(AddClosedDeals({}, &none), "");
  EXPECT_DOUBLE_EQ(none.average_sales_cycle_days(), 0);
  EXPECT_DOUBLE_EQ(none.win_rate(), 0);
}

TEST(RepPerformanceTest, OpenPipelineIsWeightedByStageOrOverride) {
  v1::RepPerformance perf;
  AddOpenPipeline({{v1::STAGE_PROPOSAL, std::nullopt, 1000}, {v1::STAGE_PROSPECTING, 50, 200}},
                  "USD", &perf);
  EXPECT_EQ(perf.open_pipeline().amount_minor(), 1200);
  EXPECT_EQ(perf.weighted_forecast().amount_minor(), 600 + 100);
  EXPECT_EQ(perf.weighted_forecast().currency_code(), "USD");
}

}  // namespace
}  // namespace funnel::sales
