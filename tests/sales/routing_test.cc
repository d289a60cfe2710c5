#include "sales_service/routing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "sales_service/rep_performance.h"

namespace funnel::sales {
namespace {

handoff::v1::LeadHandoff Lead(const std::string& region, const std::string& industry,
                              int size = 0) {
  handoff::v1::LeadHandoff lead;
  lead.mutable_contact()->set_region(region);
  lead.mutable_contact()->set_industry(industry);
  lead.mutable_contact()->set_company_size(size);
  lead.set_score(50);
  lead.set_temperature(handoff::v1::TEMPERATURE_WARM);
  lead.mutable_qualification()->set_method(handoff::v1::QUALIFICATION_METHOD_MANUAL);
  lead.set_first_touch_campaign_id(7);
  lead.set_last_touch_campaign_id(9);
  return lead;
}

TEST(RoutingTest, EverySetCriterionMustHoldAndTextIgnoresCase) {
  v1::RoutingMatch m;
  EXPECT_TRUE(Matches(m, Lead("", "")));  // empty matches everything
  m.add_regions("EMEA");
  m.add_industries("software");
  EXPECT_TRUE(Matches(m, Lead(" emea ", "Software")));
  EXPECT_FALSE(Matches(m, Lead("AMER", "software")));
  EXPECT_FALSE(Matches(m, Lead("EMEA", "retail")));

  v1::RoutingMatch size;
  size.set_min_company_size(50);
  size.set_max_company_size(500);
  EXPECT_TRUE(Matches(size, Lead("", "", 50)));
  EXPECT_TRUE(Matches(size, Lead("", "", 500)));
  EXPECT_FALSE(Matches(size, Lead("", "", 501)));
  EXPECT_FALSE(Matches(size, Lead("", "", 0)));  // unknown size is not in any range

  v1::RoutingMatch campaign;
  campaign.add_campaign_ids(9);
  EXPECT_TRUE(Matches(campaign, Lead("", "")));  // last touch
  campaign.set_campaign_ids(0, 8);
  EXPECT_FALSE(Matches(campaign, Lead("", "")));

  v1::RoutingMatch hot;
  hot.set_min_temperature(handoff::v1::TEMPERATURE_HOT);
  EXPECT_FALSE(Matches(hot, Lead("", "")));
  v1::RoutingMatch score;
  score.set_min_score(50);
  EXPECT_TRUE(Matches(score, Lead("", "")));
  score.set_min_score(50.5);
  EXPECT_FALSE(Matches(score, Lead("", "")));
  v1::RoutingMatch automatic;
  automatic.set_qualification_method(handoff::v1::QUALIFICATION_METHOD_AUTOMATIC);
  EXPECT_FALSE(Matches(automatic, Lead("", "")));
}

TEST(RoutingTest, TheFirstMatchingRuleInOrderWins) {
  std::vector<v1::RoutingRule> rules(3);
  rules[0].mutable_match()->add_regions("APAC");
  rules[1].mutable_match()->add_regions("EMEA");
  // rules[2] matches everything
  EXPECT_EQ(FirstMatch(rules, Lead("EMEA", "")), 1u);
  EXPECT_EQ(FirstMatch(rules, Lead("AMER", "")), 2u);
  rules.pop_back();
  EXPECT_EQ(FirstMatch(rules, Lead("AMER", "")), std::nullopt);
}

std::vector<std::string> ViolationsOf(const v1::RoutingRule& rule) {
  common::FieldViolations v;
  CheckRule(rule, "rule", v);
  return v.empty() ? std::vector<std::string>{} : std::vector<std::string>{v.status().ToString()};
}

TEST(RoutingTest, ARuleNamesOneTargetWithSaneWeightsAndEscalation) {
  v1::RoutingRule ok;
  ok.set_name("EMEA");
  ok.set_team_manager_rep_id(3);
  EXPECT_THAT(ViolationsOf(ok), ::testing::IsEmpty());

  v1::RoutingRule both = ok;
  both.add_pool()->set_rep_id(4);
  EXPECT_THAT(ViolationsOf(both), ::testing::ElementsAre(::testing::HasSubstr("rule.pool")));
  v1::RoutingRule neither;
  neither.set_name("x");
  EXPECT_THAT(ViolationsOf(neither), ::testing::ElementsAre(::testing::HasSubstr("rule.pool")));

  v1::RoutingRule pool;
  pool.set_name("p");
  pool.add_pool()->set_rep_id(4);
  pool.add_pool()->set_rep_id(4);
  pool.add_pool()->set_weight(101);
  const std::string bad = ViolationsOf(pool).at(0);
  EXPECT_THAT(bad, ::testing::HasSubstr("rule.pool[1].rep_id: listed twice"));
  EXPECT_THAT(bad, ::testing::HasSubstr("rule.pool[2].rep_id"));
  EXPECT_THAT(bad, ::testing::HasSubstr("rule.pool[2].weight"));

  v1::RoutingRule escalation = ok;
  escalation.set_escalation(v1::ESCALATION_MODE_MANAGER);
  EXPECT_THAT(ViolationsOf(escalation),
              ::testing::ElementsAre(::testing::HasSubstr("rule.max_escalations")));
  escalation.set_max_escalations(2);
  EXPECT_THAT(ViolationsOf(escalation), ::testing::IsEmpty());
  escalation.set_escalation(v1::ESCALATION_MODE_NONE);
  EXPECT_THAT(ViolationsOf(escalation),
              ::testing::ElementsAre(::testing::HasSubstr("rule.max_escalations")));

  v1::RoutingRule sizes = ok;
  sizes.mutable_match()->set_min_company_size(100);
  sizes.mutable_match()->set_max_company_size(10);
  EXPECT_THAT(ViolationsOf(sizes),
              ::testing::ElementsAre(::testing::HasSubstr("rule.match.max_company_size")));
}

std::map<int64_t, int> Picks(std::vector<PoolSlot>& slots, int picks) {
  std::map<int64_t, int> got;
  for (int i = 0; i < picks; ++i) {
    std::optional<size_t> p = PickSmoothWeighted(slots);
    if (p) ++got[slots[*p].rep_id];
  }
  return got;
}

TEST(RoutingTest, EqualWeightsTakeTurnsExactly) {
  std::vector<PoolSlot> slots = {
      {1, 1, 0, true}, {2, 1, 0, true}, {3, 1, 0, true}, {4, 1, 0, true}, {5, 1, 0, true}};
  // Strict rotation: 1, 2, 3, 4, 5, 1, ...
  for (int64_t expected : {1, 2, 3, 4, 5, 1, 2}) {
    EXPECT_EQ(slots[*PickSmoothWeighted(slots)].rep_id, expected);
  }
  const std::map<int64_t, int> got = Picks(slots, 1000 - 7);
  int total = 7;
  for (const auto& [rep, n] : got) total += n;
  EXPECT_EQ(total, 1000);
  for (const auto& [rep, n] : got) EXPECT_NEAR(n + (rep <= 2 ? 2 : 1), 200, 1) << rep;
}

TEST(RoutingTest, WeightsShareInProportionAndInterleave) {
  std::vector<PoolSlot> slots = {{1, 3, 0, true}, {2, 1, 0, true}};
  std::vector<int64_t> order;
  for (int i = 0; i < 4; ++i) order.push_back(slots[*PickSmoothWeighted(slots)].rep_id);
  EXPECT_THAT(order, ::testing::ElementsAre(1, 1, 2, 1));  // not 1, 1, 1, 2
  const std::map<int64_t, int> got = Picks(slots, 400);
  EXPECT_EQ(got.at(1), 300);
  EXPECT_EQ(got.at(2), 100);
}

TEST(RoutingTest, AnIneligibleRepIsSkippedAndRejoinsWithoutABurst) {
  std::vector<PoolSlot> slots = {{1, 1, 0, true}, {2, 1, 0, true}, {3, 1, 0, false}};
  std::map<int64_t, int> got = Picks(slots, 100);
  EXPECT_EQ(got.count(3), 0u);
  EXPECT_EQ(got.at(1), 50);
  slots[2].eligible = true;  // back: a third from now on, not 100 in a row
  got = Picks(slots, 30);
  EXPECT_EQ(got.at(3), 10);
  EXPECT_EQ(got.at(1), 10);
  for (PoolSlot& s : slots) s.eligible = false;
  EXPECT_EQ(PickSmoothWeighted(slots), std::nullopt);
}

TEST(RoutingTest, CapacityAvailabilityAndActivity) {
  EXPECT_TRUE(CanTakeHandoff({true, false, 0, 1000}));  // no limit
  EXPECT_TRUE(CanTakeHandoff({true, false, 3, 2}));
  EXPECT_FALSE(CanTakeHandoff({true, false, 3, 3}));   // full
  EXPECT_FALSE(CanTakeHandoff({true, true, 0, 0}));    // away
  EXPECT_FALSE(CanTakeHandoff({false, false, 0, 0}));  // left
}

TEST(RoutingTest, FirstResponseTimesCountWhileTheHandoffWasTheReps) {
  const absl::Time t = absl::FromUnixSeconds(1'700'000'000);
  v1::RepPerformance perf;
  AddHandoffResponses(
      {
          {t, t + absl::Seconds(60), std::nullopt},             // 60 s
          {t, t + absl::Seconds(300), t + absl::Seconds(120)},  // moved on first
          {t, std::nullopt, std::nullopt},                      // unanswered
          {t, t - absl::Seconds(5), std::nullopt},              // answered before
          {t, t + absl::Seconds(180), t + absl::Seconds(200)},  // 180 s
      },
      &perf);
  EXPECT_EQ(perf.handoffs_received(), 5);
  EXPECT_EQ(perf.handoffs_answered(), 3);
  EXPECT_DOUBLE_EQ(perf.average_first_response_seconds(), 80);
  EXPECT_DOUBLE_EQ(perf.median_first_response_seconds(), 60);
}

}  // namespace
}  // namespace funnel::sales
