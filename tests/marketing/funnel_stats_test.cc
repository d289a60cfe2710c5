// Marketing's funnel figures against the real MariaDB: the daily lead counts with
// partial days at the range's ends, and counts and medians read from the indexes.

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "tests/marketing/marketing_fixture.h"

namespace funnel::marketing {
namespace {

using ::funnel::testing::IsOk;

class FunnelStatsTest : public MarketingFixture {
 protected:
  // A UTC midnight.
  const absl::Time day_ = absl::FromUnixSeconds(1'773'100'800);  // 2026-03-10

  int64_t CaptureAt(const std::string& email, absl::Time when, int64_t campaign = 0) {
    auto lead = leads_.Capture(Capture(email, campaign, handoff::v1::TOUCHPOINT_TYPE_EMAIL_CLICK),
                               "t", when);
    EXPECT_THAT(lead, IsOk());
    return lead.ok() ? lead->lead().lead_id() : 0;
  }

  // A handoff created `mql_after` after the lead's capture, delivered `delivery`
  // later and decided (1 accepted, 2 rejected) `decision_after` after delivery.
  void HandOff(int64_t lead_id, absl::Time captured, absl::Duration mql_after,
               absl::Duration delivery, int decision, absl::Duration decision_after) {
    const absl::Time created = captured + mql_after;
    const absl::Time delivered = created + delivery;
    db_.Execute(absl::StrCat(
        "INSERT INTO handoffs (handoff_id, lead_id, method, created_at, lead_created_at, "
        "delivered_at, decision, ",
        "rejection_reason, decided_at) VALUES (UUID(), ", lead_id, ", 1, FROM_UNIXTIME(",
        absl::ToUnixSeconds(created), "), FROM_UNIXTIME(", absl::ToUnixSeconds(captured),
        "), FROM_UNIXTIME(", absl::ToUnixSeconds(delivered), "), ", decision, ", ",
        decision == 2 ? 3 : 0, ", ",
        decision == 0
            ? "NULL"
            : absl::StrCat("FROM_UNIXTIME(", absl::ToUnixSeconds(delivered + decision_after), ")"),
        ")"));
  }
};

TEST_F(FunnelStatsTest, LeadsCapturedCountsWholeDaysAndTheEdgesOfARange) {
  const int64_t campaign = ActiveCampaign("days");
  CaptureAt("a@example.com", day_ - absl::Hours(47));            // day-2 01:00
  CaptureAt("b@example.com", day_ - absl::Hours(19), campaign);  // day-1 05:00
  CaptureAt("c@example.com", day_ - absl::Hours(1));             // day-1 23:00
  CaptureAt("d@example.com", day_ + absl::Hours(2), campaign);   // day 02:00
  CaptureAt("e@example.com", day_ + absl::Hours(36));            // day+1 12:00
  CaptureAt("f@example.com", day_ + absl::Hours(50));            // day+2 02:00

  auto captured = [&](absl::Time start, absl::Time end, int64_t campaign_id = 0) -> int64_t {
    auto stats = reports_.FunnelStats(start, end, campaign_id, 0);
    EXPECT_THAT(stats, IsOk());
    return stats.ok() ? stats->leads_captured() : -1;
  };
  // Partial first day, two whole days, partial last day.
  EXPECT_EQ(captured(day_ - absl::Hours(46), day_ + absl::Hours(37)), 4);
  EXPECT_EQ(captured(day_ - absl::Hours(47), day_ + absl::Hours(36)),
            4);  // start inclusive, end exclusive
  EXPECT_EQ(captured(day_ - absl::Hours(24), day_ + absl::Hours(24)), 3);  // whole days only
  EXPECT_EQ(captured(day_ - absl::Hours(20), day_ - absl::Hours(18)), 1);  // inside one day
  EXPECT_EQ(captured(absl::UnixEpoch(), day_ + absl::Hours(72)), 6);
  EXPECT_EQ(captured(absl::UnixEpoch(), day_ + absl::Hours(72), campaign), 2);
  EXPECT_EQ(captured(day_, day_ + absl::Hours(72), campaign), 1);
}

TEST_F(FunnelStatsTest, CountsAndMediansOfTheHandoffsInRange) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(CaptureAt(absl::StrCat("h", i, "@example.com"), day_));
  // Capture to MQL: 10, 20, 40, 80 s (median 30); MQL to delivery 1, 2, 3, 9 s
  // (median 2.5); delivery to decision 60, 120, 600 s for the three decided.
  HandOff(ids[0], day_, absl::Seconds(10), absl::Seconds(1), 1, absl::Seconds(60));
  HandOff(ids[1], day_, absl::Seconds(20), absl::Seconds(2), 1, absl::Seconds(120));
  HandOff(ids[2], day_, absl::Seconds(40), absl::Seconds(3), 2, absl::Seconds(600));
  HandOff(ids[3], day_, absl::Seconds(80), absl::Seconds(9), 0, absl::ZeroDuration());

  auto stats = reports_.FunnelStats(day_ - absl::Hours(1), day_ + absl::Hours(1), 0, 0);
  ASSERT_THAT(stats, IsOk());
  EXPECT_EQ(stats->leads_captured(), 4);
  EXPECT_EQ(stats->mqls(), 4);
  EXPECT_EQ(stats->handed_off(), 4);
  EXPECT_EQ(stats->accepted(), 2);
  ASSERT_EQ(stats->rejected_by_reason_size(), 1);
  EXPECT_EQ(stats->rejected_by_reason(0).count(), 1);
  EXPECT_DOUBLE_EQ(stats->median_capture_to_mql_seconds(), 30);
  EXPECT_DOUBLE_EQ(stats->median_mql_to_handoff_seconds(), 2.5);
  EXPECT_DOUBLE_EQ(stats->median_handoff_to_decision_seconds(), 120);

  // A range that holds only the first two handoffs' creation.
  auto early = reports_.FunnelStats(day_, day_ + absl::Seconds(30), 0, 0);
  ASSERT_THAT(early, IsOk());
  EXPECT_EQ(early->mqls(), 2);
  EXPECT_DOUBLE_EQ(early->median_capture_to_mql_seconds(), 15);
  EXPECT_EQ(early->handed_off(), 2);  // delivered at 11 s and 22 s
  EXPECT_EQ(early->accepted(), 0);
  EXPECT_DOUBLE_EQ(early->median_handoff_to_decision_seconds(), 0);  // none decided in range
}

TEST_F(FunnelStatsTest, StepsCountDistinctLeadsAndConversionsStayWithinTheirCohort) {
  // a: rejected, qualified again and accepted (two handoffs); b: captured the day
  // before the range, qualified in it; c: captured in range, never qualified.
  const int64_t a = CaptureAt("a@example.com", day_);
  const int64_t b = CaptureAt("b@example.com", day_ - absl::Hours(20));
  CaptureAt("c@example.com", day_);
  HandOff(a, day_, absl::Seconds(10), absl::Seconds(1), 2, absl::Seconds(60));
  HandOff(a, day_, absl::Seconds(200), absl::Seconds(1), 1, absl::Seconds(60));
  HandOff(b, day_ - absl::Hours(20), absl::Hours(21), absl::Seconds(1), 0, absl::ZeroDuration());

  auto stats = reports_.FunnelStats(day_, day_ + absl::Hours(2), 0, 0);
  ASSERT_THAT(stats, IsOk());
  EXPECT_EQ(stats->leads_captured(), 2);           // a and c
  EXPECT_EQ(stats->mqls(), 2);                     // a and b
  EXPECT_EQ(stats->handed_off(), 3);               // handoffs
  EXPECT_EQ(stats->handed_off_leads(), 2);         // a and b
  EXPECT_EQ(stats->rehandoffs(), 1);               // a's second
  EXPECT_EQ(stats->accepted_leads(), 1);           // a
  EXPECT_EQ(stats->captured_then_qualified(), 1);  // a (b was captured before)
  EXPECT_EQ(stats->qualified_then_handed_off(), 2);
  EXPECT_EQ(stats->handed_off_then_accepted(), 1);
  // A range ending before a's acceptance: a was handed off in it, not yet accepted.
  auto early = reports_.FunnelStats(day_, day_ + absl::Seconds(100), 0, 0);
  ASSERT_THAT(early, IsOk());
  EXPECT_EQ(early->handed_off_leads(), 1);
  EXPECT_EQ(early->handed_off_then_accepted(), 0);
  EXPECT_EQ(early->rehandoffs(), 0);
}

}  // namespace
}  // namespace funnel::marketing
