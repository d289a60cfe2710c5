// CalibrateScoringPolicy against the real MariaDB: which handoffs count as
// outcomes, their touches decayed to the handoff, and the call end to end on the
// service.

#include <gtest/gtest.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "marketing_service/scoring.h"
#include "tests/marketing/marketing_fixture.h"

namespace funnel::marketing {
namespace {

using ::funnel::testing::IsOk;
using handoff::v1::TOUCHPOINT_TYPE_DEMO_REQUEST;
using handoff::v1::TOUCHPOINT_TYPE_EMAIL_OPEN;

class CalibrationStoreTest : public MarketingFixture {
 protected:
  const absl::Time t0_ = absl::FromUnixSeconds(1'773'100'800);  // 2026-03-10

  int64_t Lead(const std::string& email, const std::string& industry, bool erased = false) {
    db_.Execute(
        absl::StrCat("INSERT INTO leads (email, industry, region, company_size, erased) "
                     "VALUES ('",
                     email, "', '", industry, "', 'EMEA', 120, ", erased, ")"));
    return db_.QueryInt(absl::StrCat("SELECT lead_id FROM leads WHERE email = '", email, "'"));
  }
  void Touch(int64_t lead_id, handoff::v1::TouchpointType type, absl::Time when) {
    db_.Execute(absl::StrCat("INSERT INTO touchpoints (lead_id, type, occurred_at) VALUES (",
                             lead_id, ", ", type, ", FROM_UNIXTIME(", absl::ToUnixSeconds(when),
                             "))"));
  }
  // decision: 1 accepted, 2 rejected; outcome: 1 won, 2 lost, 3 reopened.
  void HandOff(int64_t lead_id, absl::Time when, int decision, int outcome) {
    db_.Execute(
        absl::StrCat("INSERT INTO handoffs (handoff_id, lead_id, method, created_at, "
                     "decision, outcome) VALUES (UUID(), ",
                     lead_id, ", 1, FROM_UNIXTIME(", absl::ToUnixSeconds(when), "), ", decision,
                     ", ", outcome, ")"));
  }
};

TEST_F(CalibrationStoreTest, OutcomesAreDecidedHandoffsWithTheirTouchesDecayedToTheHandoff) {
  const absl::Time handed = t0_ + absl::Hours(24 * 40);
  const int64_t won = Lead("won@example.com", "Software");
  Touch(won, TOUCHPOINT_TYPE_EMAIL_OPEN, handed - absl::Hours(24 * 30));  // one half-life: 0.5
  Touch(won, TOUCHPOINT_TYPE_EMAIL_OPEN, handed - absl::Hours(24 * 30));
  Touch(won, TOUCHPOINT_TYPE_EMAIL_OPEN, handed);                     // 1
  Touch(won, TOUCHPOINT_TYPE_DEMO_REQUEST, handed + absl::Hours(1));  // after: not counted
  HandOff(won, handed, 1, 1);
  const int64_t lost = Lead("lost@example.com", "retail");
  Touch(lost, TOUCHPOINT_TYPE_DEMO_REQUEST, handed - absl::Hours(24 * 60));  // two: 0.25
  HandOff(lost, handed, 1, 2);
  const int64_t rejected = Lead("rejected@example.com", "retail");
  HandOff(rejected, handed, 2, 0);
  // Not outcomes: undecided, accepted and still open, reopened, erased, out of range.
  HandOff(Lead("pending@example.com", "x"), handed, 0, 0);
  HandOff(Lead("open@example.com", "x"), handed, 1, 0);
  HandOff(Lead("reopened@example.com", "x"), handed, 1, 3);
  HandOff(Lead("erased@example.com", "x", /*erased=*/true), handed, 1, 1);
  HandOff(Lead("early@example.com", "x"), t0_ - absl::Hours(1), 1, 1);

  auto outcomes = scoring_.Outcomes({t0_, t0_ + absl::Hours(24 * 365)}, 30);
  ASSERT_THAT(outcomes, IsOk());
  ASSERT_EQ(outcomes->size(), 3u);
  std::map<int64_t, CalibrationOutcome> by_lead;
  for (const CalibrationOutcome& o : *outcomes) by_lead[o.lead_id] = o;
  ASSERT_EQ(by_lead.count(won) + by_lead.count(lost) + by_lead.count(rejected), 3u);
  EXPECT_TRUE(by_lead[won].won);
  EXPECT_FALSE(by_lead[lost].won);
  EXPECT_FALSE(by_lead[rejected].won);
  EXPECT_NEAR(by_lead[won].decayed_touches[TOUCHPOINT_TYPE_EMAIL_OPEN], 2.0, 1e-6);
  EXPECT_EQ(by_lead[won].decayed_touches[TOUCHPOINT_TYPE_DEMO_REQUEST], 0);
  EXPECT_NEAR(by_lead[lost].decayed_touches[TOUCHPOINT_TYPE_DEMO_REQUEST], 0.25, 1e-6);
  EXPECT_EQ(by_lead[won].industry, "Software");
  EXPECT_EQ(by_lead[won].region, "EMEA");
  EXPECT_EQ(by_lead[won].company_size, 120);

  // No decay: every touch before the handoff counts one.
  auto undecayed = scoring_.Outcomes({t0_, t0_ + absl::Hours(24 * 365)}, 0);
  ASSERT_THAT(undecayed, IsOk());
  for (const CalibrationOutcome& o : *undecayed) {
    if (o.lead_id == won) {
      EXPECT_NEAR(o.decayed_touches[TOUCHPOINT_TYPE_EMAIL_OPEN], 3.0, 1e-6);
    }
  }
}

TEST_F(CalibrationStoreTest, TheServiceProposesAPolicyOnlyFromEnoughOutcomes) {
  v1::CalibrateScoringPolicyRequest request;
  {
    grpc::ClientContext ctx;
    v1::CalibrateScoringPolicyResponse response;
    const grpc::Status s = stub_->CalibrateScoringPolicy(&ctx, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
    EXPECT_NE(s.error_message().find("too few outcomes"), std::string::npos) << s.error_message();
  }
  // 400 handed-off leads: those opened at least three emails were won.
  db_.Execute(
      "INSERT INTO leads (email, industry) SELECT CONCAT('p', seq, '@example.com'), "
      "IF(seq % 2 = 0, 'software', 'retail') FROM seq_1_to_400");
  db_.Execute(absl::StrCat(
      "INSERT INTO touchpoints (lead_id, type, occurred_at) SELECT l.lead_id, ",
      TOUCHPOINT_TYPE_EMAIL_OPEN, ", NOW(6) - INTERVAL 2 DAY FROM leads l JOIN seq_1_to_4 s ",
      "ON s.seq <= CAST(SUBSTRING(l.email, 2, LOCATE('@', l.email) - 2) AS UNSIGNED) % 5"));
  db_.Execute(
      "INSERT INTO handoffs (handoff_id, lead_id, method, created_at, decision, outcome) "
      "SELECT UUID(), l.lead_id, 1, NOW(6) - INTERVAL 1 DAY, 1, "
      "IF(CAST(SUBSTRING(l.email, 2, LOCATE('@', l.email) - 2) AS UNSIGNED) % 5 >= 3, 1, 2) "
      "FROM leads l");
  grpc::ClientContext ctx;
  v1::CalibrateScoringPolicyResponse response;
  const grpc::Status s = stub_->CalibrateScoringPolicy(&ctx, request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.training_outcomes() + response.held_out_outcomes(), 400);
  EXPECT_EQ(response.won_outcomes(), 160);
  EXPECT_GT(TouchpointPoints(response.proposed_policy(), TOUCHPOINT_TYPE_EMAIL_OPEN), 0);
  EXPECT_GT(response.proposed().auc(), 0.95);
  // It is a proposal: the policy in force is unchanged, and the proposal carries
  // its etag for UpdateScoringPolicy.
  auto current = scoring_.Get();
  ASSERT_THAT(current, IsOk());
  EXPECT_EQ(response.proposed_policy().etag(), current->etag());
  EXPECT_EQ(current->SerializeAsString(), [&] {
    v1::ScoringPolicy d = DefaultScoringPolicy();
    d.set_etag(current->etag());
    *d.mutable_update_time() = current->update_time();
    return d.SerializeAsString();
  }());
}

}  // namespace
}  // namespace funnel::marketing
