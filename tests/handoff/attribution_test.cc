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
