#include "sales_service/pipeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace funnel::sales {
namespace {

using ::funnel::testing::IsOk;
using ::funnel::testing::StatusIs;
using ::testing::HasSubstr;

TEST(PipelineTest, DefaultProbabilities) {
  const std::vector<std::pair<v1::Stage, int>> expected = {
      {v1::STAGE_PROSPECTING, 10}, {v1::STAGE_QUALIFICATION, 20}, {v1::STAGE_NEEDS_ANALYSIS, 40},
      {v1::STAGE_PROPOSAL, 60},    {v1::STAGE_NEGOTIATION, 80},   {v1::STAGE_CLOSED_WON, 100},
      {v1::STAGE_CLOSED_LOST, 0}};
  for (auto [stage, p] : expected) EXPECT_EQ(DefaultProbability(stage), p) << stage;
}

TEST(PipelineTest, OverrideAppliesToOpenStagesOnly) {
  EXPECT_EQ(EffectiveProbability(v1::STAGE_PROPOSAL, 75), 75);
  EXPECT_EQ(EffectiveProbability(v1::STAGE_PROPOSAL, std::nullopt), 60);
  EXPECT_EQ(EffectiveProbability(v1::STAGE_CLOSED_WON, 10), 100);
  EXPECT_EQ(EffectiveProbability(v1::STAGE_CLOSED_LOST, 90), 0);
}

TEST(PipelineTest, OpenStagesMoveForwardAndBack) {
  EXPECT_THAT(CheckStageMove(v1::STAGE_PROSPECTING, v1::STAGE_NEGOTIATION, false), IsOk());
  EXPECT_THAT(CheckStageMove(v1::STAGE_PROPOSAL, v1::STAGE_QUALIFICATION, false), IsOk());
  EXPECT_THAT(CheckStageMove(v1::STAGE_PROPOSAL, v1::STAGE_PROPOSAL, false), IsOk());
}

TEST(PipelineTest, ClosingGoesThroughCloseAndReopeningNeedsAManager) {
  EXPECT_THAT(CheckStageMove(v1::STAGE_NEGOTIATION, v1::STAGE_CLOSED_WON, true),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("CloseOpportunity")));
  EXPECT_THAT(CheckStageMove(v1::STAGE_CLOSED_LOST, v1::STAGE_PROPOSAL, false),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("MANAGER")));
  EXPECT_THAT(CheckStageMove(v1::STAGE_CLOSED_LOST, v1::STAGE_PROPOSAL, true), IsOk());
  EXPECT_THAT(CheckStageMove(v1::STAGE_CLOSED_WON, v1::STAGE_CLOSED_LOST, true),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(CheckStageMove(v1::STAGE_PROPOSAL, v1::STAGE_UNSPECIFIED, true),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckClose(v1::STAGE_CLOSED_WON), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(CheckClose(v1::STAGE_PROSPECTING), IsOk());
}

TEST(PipelineTest, MoneyArithmeticIsExact) {
  EXPECT_EQ(Weighted(1'000'000, 60), 600'000);
  EXPECT_EQ(Weighted(999, 50), 500);  // 499.5 rounds half away from zero
  EXPECT_EQ(Weighted(9'000'000'000'000'000'000, 80), 7'200'000'000'000'000'000);  // no overflow
  EXPECT_DOUBLE_EQ(AttainmentPercent(75'000, 100'000), 75);
  EXPECT_DOUBLE_EQ(AttainmentPercent(5, 0), 0);
  EXPECT_DOUBLE_EQ(WinRate(3, 1), 0.75);
  EXPECT_DOUBLE_EQ(WinRate(0, 0), 0);
}

TEST(PipelineTest, QuartersParseToUtcRanges) {
  auto q = ParseQuarter("2026-Q4", "quarter");
  ASSERT_THAT(q, IsOk());
  EXPECT_EQ(q->start, absl::FromCivil(absl::CivilDay(2026, 10, 1), absl::UTCTimeZone()));
  EXPECT_EQ(q->end, absl::FromCivil(absl::CivilDay(2027, 1, 1), absl::UTCTimeZone()));
  for (const char* bad : {"2026-Q5", "2026Q4", "26-Q1", "2026-q1", ""}) {
    EXPECT_THAT(ParseQuarter(bad, "quota.quarter"),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("quota.quarter")))
        << bad;
  }
}

TEST(PipelineTest, RowRule) {
  EXPECT_THAT(CheckCanChange({"SALES_REP", 7}, 7, 1, "opportunity 3"), IsOk());
  EXPECT_THAT(CheckCanChange({"SALES_REP", 7}, 8, 1, "opportunity 3"),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("belongs to rep 8")));
  EXPECT_THAT(CheckCanChange({"SALES_MANAGER", 1}, 8, 1, "x"), IsOk());  // team member
  EXPECT_THAT(CheckCanChange({"SALES_MANAGER", 1}, 9, 2, "x"),
              StatusIs(absl::StatusCode::kPermissionDenied));  // another team
  EXPECT_THAT(CheckCanChange({"REVENUE_OPS", 0}, 9, 2, "x"),
              StatusIs(absl::StatusCode::kPermissionDenied));  // read-only role
  EXPECT_THAT(CheckCanChange({"ADMIN", 0}, 9, 2, "x"), IsOk());
  EXPECT_TRUE(IsManagerLike({"SALES_MANAGER", 1}));
  EXPECT_FALSE(IsManagerLike({"SALES_REP", 1}));
}

TEST(PipelineTest, AggregationKeepsCurrenciesApartAndForecastsByCategory) {
  const std::vector<OpportunityFacts> facts = {
      {v1::STAGE_PROSPECTING, std::nullopt, "USD", 1000, v1::SOURCE_MARKETING},
      {v1::STAGE_PROPOSAL, std::nullopt, "USD", 2000, v1::SOURCE_REFERRAL},
      {v1::STAGE_NEGOTIATION, 50, "USD", 4000, v1::SOURCE_MARKETING},
      {v1::STAGE_NEGOTIATION, std::nullopt, "EUR", 500, v1::SOURCE_UPSELL},
      {v1::STAGE_CLOSED_WON, std::nullopt, "USD", 9000, v1::SOURCE_MARKETING},
      {v1::STAGE_CLOSED_LOST, std::nullopt, "USD", 7000, v1::SOURCE_MARKETING},
  };
  v1::PipelineReport r = AggregatePipeline(facts);
  ASSERT_EQ(r.stages_size(), 7);
  EXPECT_EQ(r.stages(4).stage(), v1::STAGE_NEGOTIATION);
  EXPECT_EQ(r.stages(4).count(), 2);
  EXPECT_EQ(r.stages(4).totals_size(), 2);  // USD and EUR apart
  ASSERT_EQ(r.commit_size(), 2);
  EXPECT_EQ(r.commit(0).currency_code(), "USD");
  EXPECT_EQ(r.commit(0).amount_minor(), 4000);
  EXPECT_EQ(r.commit(0).weighted_amount_minor(), 2000);  // override 50%
  EXPECT_EQ(r.best_case(0).amount_minor(), 6000);        // PROPOSAL and NEGOTIATION, USD
  EXPECT_EQ(r.pipeline(0).amount_minor(), 7000);         // every open USD deal
  EXPECT_EQ(r.pipeline(0).weighted_amount_minor(), 100 + 1200 + 2000);
  EXPECT_EQ(r.marketing_sourced(0).amount_minor(), 5000);
  EXPECT_DOUBLE_EQ(r.win_rate(), 0.5);
}

}  // namespace
}  // namespace funnel::sales
