// Sales' reports applied in marketing: a deal's outcome revisions resolve to the
// highest, whatever order the relay delivers them in.

#include "marketing_service/feedback_store.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/testing/status_matchers.h"
#include "tests/marketing/marketing_fixture.h"

namespace funnel::marketing {
namespace {

using ::funnel::testing::IsOk;

class FeedbackStoreTest : public MarketingFixture {
 protected:
  FeedbackStoreTest() : feedback_(&pool_) {}

  handoff::v1::DealOutcome Outcome(handoff::v1::Outcome outcome, int64_t revision,
                                   int64_t amount_minor) {
    handoff::v1::DealOutcome o;
    o.set_event_id(common::NewUuid());
    o.set_handoff_id(handoff_id_);
    o.set_opportunity_id(7);
    o.set_lead_id(lead_id_);
    o.set_outcome(outcome);
    o.set_revision(revision);
    if (outcome == handoff::v1::OUTCOME_WON) {
      o.mutable_amount()->set_currency_code("USD");
      o.mutable_amount()->set_amount_minor(amount_minor);
    } else if (outcome == handoff::v1::OUTCOME_LOST) {
      o.set_loss_reason(handoff::v1::LOSS_REASON_NO_DECISION);
    }
    return o;
  }

  int64_t Credited() {
    return db_.QueryInt("SELECT COALESCE(SUM(amount_minor), 0) FROM attributions WHERE model = 1");
  }

  void SetUp() override {
    MarketingFixture::SetUp();
    const int64_t campaign = ActiveCampaign("spring");
    auto lead = leads_.Capture(
        Capture("deal@example.com", campaign, handoff::v1::TOUCHPOINT_TYPE_WEBINAR_ATTENDED), "t",
        absl::Now());
    ASSERT_THAT(lead, IsOk());
    lead_id_ = lead->lead().lead_id();
    auto qualified = leads_.Qualify(lead_id_, "asked for a quote", "", "t", absl::Now());
    ASSERT_THAT(qualified, IsOk());
    handoff_id_ = qualified->handoff_id();
  }

  FeedbackStore feedback_;
  int64_t lead_id_ = 0;
  std::string handoff_id_;
};

TEST_F(FeedbackStoreTest, TheHighestRevisionOfADealsOutcomeHoldsWhateverTheArrivalOrder) {
  ASSERT_THAT(feedback_.ApplyOutcome(Outcome(handoff::v1::OUTCOME_WON, 3, 500), absl::Now()),
              IsOk());
  EXPECT_EQ(Credited(), 500);
  EXPECT_EQ(leads_.FindLead(lead_id_)->stage(), v1::LEAD_STAGE_CUSTOMER);
  // Revisions 1 and 2 (a first close at 900, its reopen) arrive late: stale.
  for (auto [outcome, revision] :
       {std::pair{handoff::v1::OUTCOME_WON, 1}, std::pair{handoff::v1::OUTCOME_REOPENED, 2}}) {
    auto late = feedback_.ApplyOutcome(Outcome(outcome, revision, 900), absl::Now());
    ASSERT_THAT(late, IsOk());
    EXPECT_TRUE(late->stale());
    EXPECT_FALSE(late->duplicate());
  }
  EXPECT_EQ(Credited(), 500);
  EXPECT_EQ(leads_.FindLead(lead_id_)->stage(), v1::LEAD_STAGE_CUSTOMER);
  // A correction to LOST retracts the revenue and the customer.
  const handoff::v1::DealOutcome lost = Outcome(handoff::v1::OUTCOME_LOST, 5, 0);
  ASSERT_THAT(feedback_.ApplyOutcome(lost, absl::Now()), IsOk());
  EXPECT_EQ(Credited(), 0);
  const v1::Lead after = *leads_.FindLead(lead_id_);
  EXPECT_EQ(after.stage(), v1::LEAD_STAGE_SALES_ACCEPTED);
  EXPECT_EQ(after.loss_reason(), handoff::v1::LOSS_REASON_NO_DECISION);
  auto again = feedback_.ApplyOutcome(lost, absl::Now());
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(again->duplicate());
  EXPECT_EQ(db_.QueryInt("SELECT outcome_revision FROM handoffs"), 5);
}

TEST_F(FeedbackStoreTest, ACustomerQualifiedAgainIsExpansionAndStaysACustomerWhateverSalesSays) {
  handoff::v1::HandoffDecision accept;
  accept.set_event_id(common::NewUuid());
  accept.set_handoff_id(handoff_id_);
  accept.set_decision(handoff::v1::DECISION_ACCEPTED);
  accept.set_account_id(41);
  accept.set_contact_id(42);
  ASSERT_THAT(feedback_.ApplyDecision(accept, absl::Now()), IsOk());
  ASSERT_THAT(feedback_.ApplyOutcome(Outcome(handoff::v1::OUTCOME_WON, 1, 700), absl::Now()),
              IsOk());
  const v1::Lead customer = *leads_.FindLead(lead_id_);
  ASSERT_EQ(customer.stage(), v1::LEAD_STAGE_CUSTOMER);
  EXPECT_EQ(customer.sales_account_id(), 41);
  EXPECT_EQ(customer.sales_contact_id(), 42);
  ASSERT_TRUE(customer.has_won_time());

  auto again = leads_.Qualify(lead_id_, "upsell", "", "t", absl::Now());
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(db_.QueryInt(absl::StrCat("SELECT business_type FROM handoffs WHERE handoff_id = '",
                                      again->handoff_id(), "'")),
            handoff::v1::BUSINESS_TYPE_EXPANSION);
  EXPECT_EQ(db_.QueryInt(absl::StrCat("SELECT first_touch_campaign_id FROM handoffs WHERE "
                                      "handoff_id = '",
                                      again->handoff_id(), "'")),
            0)
      << "nothing touched the customer since the win";
  handoff::v1::HandoffDecision reject;
  reject.set_event_id(common::NewUuid());
  reject.set_handoff_id(again->handoff_id());
  reject.set_decision(handoff::v1::DECISION_REJECTED);
  reject.set_rejection_reason(handoff::v1::REJECTION_REASON_NOT_READY);
  ASSERT_THAT(feedback_.ApplyDecision(reject, absl::Now()), IsOk());
  const v1::Lead after = *leads_.FindLead(lead_id_);
  EXPECT_EQ(after.stage(), v1::LEAD_STAGE_CUSTOMER);
  EXPECT_TRUE(after.has_won_time());
  EXPECT_EQ(Credited(), 700);  // the first deal's credit stands

  // A correction of the first deal to lost takes the customer back.
  ASSERT_THAT(feedback_.ApplyOutcome(Outcome(handoff::v1::OUTCOME_LOST, 2, 0), absl::Now()),
              IsOk());
  EXPECT_FALSE(leads_.FindLead(lead_id_)->has_won_time());
  EXPECT_EQ(Credited(), 0);
}

// Erasure does not wait for sales' decision: a decision the relay delivers after
// it is recorded on the handoff and leaves the erased lead as erasure left it
// (it had put it back as SALES_ACCEPTED or RECYCLED, seen on the Galera cluster).
class LateDecisionTest : public FeedbackStoreTest,
                         public ::testing::WithParamInterface<handoff::v1::Decision> {};

TEST_P(LateDecisionTest, ADecisionArrivingAfterErasureLeavesTheLeadErased) {
  ASSERT_THAT(leads_.Erase(lead_id_, {}, "t", absl::Now()), IsOk());
  handoff::v1::HandoffDecision d;
  d.set_event_id(common::NewUuid());
  d.set_handoff_id(handoff_id_);
  d.set_decision(GetParam());
  if (GetParam() == handoff::v1::DECISION_REJECTED) {
    d.set_rejection_reason(handoff::v1::REJECTION_REASON_NOT_READY);
  }
  ASSERT_THAT(feedback_.ApplyDecision(d, absl::Now()), IsOk());
  const v1::Lead after = *leads_.FindLead(lead_id_);
  EXPECT_TRUE(after.erased());
  EXPECT_EQ(after.stage(), v1::LEAD_STAGE_DISQUALIFIED);
  EXPECT_EQ(db_.QueryInt("SELECT decision FROM handoffs"), GetParam());
}

INSTANTIATE_TEST_SUITE_P(BothDecisions, LateDecisionTest,
                         ::testing::Values(handoff::v1::DECISION_ACCEPTED,
                                           handoff::v1::DECISION_REJECTED));

}  // namespace
}  // namespace funnel::marketing
