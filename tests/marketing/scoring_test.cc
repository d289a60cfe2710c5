#include "marketing_service/scoring.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace funnel::marketing {
namespace {

using ::funnel::testing::IsOk;
using ::funnel::testing::StatusIs;
using handoff::v1::TOUCHPOINT_TYPE_DEMO_REQUEST;
using handoff::v1::TOUCHPOINT_TYPE_EMAIL_OPEN;
using handoff::v1::TOUCHPOINT_TYPE_WEBINAR_ATTENDED;
using ::testing::HasSubstr;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

v1::ScoringPolicy Policy() {
  v1::ScoringPolicy p = DefaultScoringPolicy();
  p.set_decay_half_life_days(10);
  return p;
}

TEST(ScoringTest, DefaultPolicyIsValid) {
  EXPECT_THAT(ValidateScoringPolicy(DefaultScoringPolicy()), IsOk());
}

// A point value near DBL_MAX was accepted and then made every score infinite.
TEST(ScoringTest, PolicyNumbersAreFiniteAndBounded) {
  v1::ScoringPolicy huge_points = Policy();
  huge_points.mutable_touchpoint_points(0)->set_points(1e308);
  EXPECT_THAT(
      ValidateScoringPolicy(huge_points),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("policy.touchpoint_points.points")));
  v1::ScoringPolicy huge_hot = Policy();
  huge_hot.set_hot_threshold(1e12);
  EXPECT_THAT(ValidateScoringPolicy(huge_hot),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("policy.hot_threshold")));
  v1::ScoringPolicy long_decay = Policy();
  long_decay.set_decay_half_life_days(1e9);
  EXPECT_THAT(
      ValidateScoringPolicy(long_decay),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("policy.decay_half_life_days")));
  v1::ScoringPolicy at_the_limit = Policy();
  at_the_limit.mutable_touchpoint_points(0)->set_points(kMaxPoints);
  EXPECT_THAT(ValidateScoringPolicy(at_the_limit), IsOk());
}

TEST(ScoringTest, TemperatureFollowsThresholdsInclusively) {
  v1::ScoringPolicy p = Policy();  // warm 20, hot 60
  EXPECT_EQ(TemperatureFor(p, 0), handoff::v1::TEMPERATURE_COLD);
  EXPECT_EQ(TemperatureFor(p, 19.99), handoff::v1::TEMPERATURE_COLD);
  EXPECT_EQ(TemperatureFor(p, 20), handoff::v1::TEMPERATURE_WARM);
  EXPECT_EQ(TemperatureFor(p, 59.99), handoff::v1::TEMPERATURE_WARM);
  EXPECT_EQ(TemperatureFor(p, 60), handoff::v1::TEMPERATURE_HOT);
}

TEST(ScoringTest, EngagementHalvesEveryHalfLife) {
  v1::ScoringPolicy p = Policy();
  Engagement e = AddTouch(p, {}, TOUCHPOINT_TYPE_DEMO_REQUEST, kT0);  // 40 points
  EXPECT_DOUBLE_EQ(e.value, 40);
  EXPECT_DOUBLE_EQ(DecayedEngagement(p, e, kT0 + absl::Hours(24 * 10)), 20);
  EXPECT_DOUBLE_EQ(DecayedEngagement(p, e, kT0 + absl::Hours(24 * 20)), 10);
  // A second touch adds to what is left, not to the original value.
  Engagement later = AddTouch(p, e, TOUCHPOINT_TYPE_WEBINAR_ATTENDED, kT0 + absl::Hours(240));
  EXPECT_DOUBLE_EQ(later.value, 20 + 15);
  EXPECT_EQ(later.as_of, kT0 + absl::Hours(240));
}

TEST(ScoringTest, MergedEngagementIsBothDecayedToTheLaterTouchAndSummed) {
  v1::ScoringPolicy p = Policy();
  Engagement old_touch = AddTouch(p, {}, TOUCHPOINT_TYPE_DEMO_REQUEST, kT0);  // 40
  Engagement new_touch =
      AddTouch(p, {}, TOUCHPOINT_TYPE_WEBINAR_ATTENDED, kT0 + absl::Hours(240));  // 15
  for (const Engagement& merged :
       {CombineEngagement(p, old_touch, new_touch), CombineEngagement(p, new_touch, old_touch)}) {
    EXPECT_DOUBLE_EQ(merged.value, 20 + 15);
    EXPECT_EQ(merged.as_of, kT0 + absl::Hours(240));
  }
  // A record never touched adds nothing and moves nothing.
  const Engagement alone = CombineEngagement(p, old_touch, Engagement{});
  EXPECT_DOUBLE_EQ(alone.value, 40);
  EXPECT_EQ(alone.as_of, kT0);
}

TEST(ScoringTest, NoDecayWithZeroHalfLifeOrBackwardsTime) {
  v1::ScoringPolicy p = Policy();
  p.set_decay_half_life_days(0);
  Engagement e{50, kT0};
  EXPECT_DOUBLE_EQ(DecayedEngagement(p, e, kT0 + absl::Hours(24 * 365)), 50);
  EXPECT_DOUBLE_EQ(DecayedEngagement(Policy(), e, kT0 - absl::Hours(1)), 50);
}

TEST(ScoringTest, OlderTouchAddsItsDecayedPointsWithoutMovingTime) {
  v1::ScoringPolicy p = Policy();
  Engagement e{0, kT0};
  Engagement after = AddTouch(p, e, TOUCHPOINT_TYPE_DEMO_REQUEST, kT0 - absl::Hours(240));
  EXPECT_DOUBLE_EQ(after.value, 20);  // 40 points, one half-life old
  EXPECT_EQ(after.as_of, kT0);
}

TEST(ScoringTest, FitPointsMatchCaseInsensitivelyAndFirstSizeRangeWins) {
  v1::ScoringPolicy p = Policy();
  auto* industry = p.add_industry_points();
  industry->set_value("Software");
  industry->set_points(10);
  auto* region = p.add_region_points();
  region->set_value("EMEA");
  region->set_points(5);
  auto* small = p.add_company_size_points();
  small->set_min_size(1);
  small->set_max_size(50);
  small->set_points(2);
  auto* large = p.add_company_size_points();
  large->set_min_size(51);
  large->set_points(8);

  handoff::v1::Contact c;
  c.set_industry("software");
  c.set_region("emea");
  c.set_company_size(500);
  EXPECT_DOUBLE_EQ(FitPoints(p, c), 10 + 5 + 8);
  c.set_company_size(10);
  EXPECT_DOUBLE_EQ(FitPoints(p, c), 10 + 5 + 2);
  c.set_company_size(0);  // unknown size scores nothing
  c.set_industry("retail");
  EXPECT_DOUBLE_EQ(FitPoints(p, c), 5);
}

TEST(ScoringTest, LeadScoreRoundsToHundredths) {
  v1::ScoringPolicy p = Policy();
  Engagement e{60, kT0};
  // Seconds of decay leave 59.9999...; the score is 60 and the lead is hot.
  const double score = LeadScore(p, e, {}, kT0 + absl::Seconds(3));
  EXPECT_DOUBLE_EQ(score, 60);
  EXPECT_EQ(TemperatureFor(p, score), handoff::v1::TEMPERATURE_HOT);
}

TEST(ScoringTest, ValidationNamesTheField) {
  v1::ScoringPolicy p = Policy();
  p.set_hot_threshold(10);
  EXPECT_THAT(ValidateScoringPolicy(p),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("policy.hot_threshold")));
  p = Policy();
  p.set_warm_threshold(0);
  EXPECT_THAT(ValidateScoringPolicy(p),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("policy.warm_threshold")));
  p = Policy();
  p.add_touchpoint_points()->set_type(TOUCHPOINT_TYPE_EMAIL_OPEN);
  EXPECT_THAT(ValidateScoringPolicy(p),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("listed twice")));
  p = Policy();
  p.set_decay_half_life_days(-1);
  EXPECT_THAT(ValidateScoringPolicy(p),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("decay_half_life_days")));
}

}  // namespace
}  // namespace funnel::marketing
