#include "sales_service/sla.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace funnel::sales {
namespace {

using ::funnel::testing::IsOk;
using ::funnel::testing::StatusIs;
using ::testing::HasSubstr;

const absl::Time kDeadline = absl::FromUnixSeconds(1'800'000'000);

TEST(SlaTest, UnansweredPastTheDeadlineIsOverdueAndBreached) {
  const SlaStatus before = EvaluateSla({kDeadline, {}, {}}, kDeadline - absl::Minutes(1));
  EXPECT_FALSE(before.overdue);
  EXPECT_FALSE(before.breached);
  EXPECT_FALSE(before.responded.has_value());
  const SlaStatus after = EvaluateSla({kDeadline, {}, {}}, kDeadline + absl::Minutes(1));
  EXPECT_TRUE(after.overdue);
  EXPECT_TRUE(after.breached);
}

TEST(SlaTest, AnActivityByTheDeadlineStopsTheClock) {
  const SlaStatus s = EvaluateSla({kDeadline, kDeadline, {}}, kDeadline + absl::Hours(100));
  EXPECT_FALSE(s.overdue);
  EXPECT_FALSE(s.breached);
  EXPECT_EQ(s.responded, kDeadline);
}

TEST(SlaTest, ALateFirstAnswerIsABreachButNoLongerOverdue) {
  const absl::Time late = kDeadline + absl::Seconds(1);
  for (const SlaFacts& facts : {SlaFacts{kDeadline, late, {}}, SlaFacts{kDeadline, {}, late}}) {
    const SlaStatus s = EvaluateSla(facts, late + absl::Hours(1));
    EXPECT_FALSE(s.overdue);
    EXPECT_TRUE(s.breached);
  }
}

TEST(SlaTest, TheEarlierOfActivityAndDecisionIsTheFirstAnswer) {
  const absl::Time early = kDeadline - absl::Hours(1);
  const absl::Time late = kDeadline + absl::Hours(1);
  EXPECT_EQ(EvaluateSla({kDeadline, late, early}, late).responded, early);
  EXPECT_EQ(EvaluateSla({kDeadline, early, late}, late).responded, early);
  EXPECT_FALSE(EvaluateSla({kDeadline, late, early}, late).breached);
}

TEST(SlaTest, ActivitiesAreDatedBetweenTheHandoffAndNow) {
  const absl::Time received = kDeadline - absl::Hours(24);
  const absl::Time now = received + absl::Hours(2);
  EXPECT_THAT(CheckActivityTime(received, received, now, "activity.occur_time"), IsOk());
  EXPECT_THAT(CheckActivityTime(now + kMaxActivityClockSkew, received, now, "f"), IsOk());
  EXPECT_THAT(CheckActivityTime(received - absl::Seconds(1), received, now, "activity.occur_time"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("activity.occur_time: 2027-01-14T07:59:59+00:00 is before")));
  EXPECT_THAT(CheckActivityTime(now + kMaxActivityClockSkew + absl::Seconds(1), received, now,
                                "activity.occur_time"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("in the future")));
  // Without a handoff only the future is refused.
  EXPECT_THAT(CheckActivityTime(absl::FromUnixSeconds(1), std::nullopt, now, "f"), IsOk());
}

}  // namespace
}  // namespace funnel::sales
