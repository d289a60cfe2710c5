#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "marketing_service/leads/lead_rows.h"
#include "marketing_service/lifecycle.h"

namespace funnel::marketing {
namespace {

using ::funnel::testing::IsOk;
using ::funnel::testing::StatusIs;
using ::testing::HasSubstr;

TEST(HistoryActionTest, EveryActionIsStoredByItsNameAndReadBack) {
  for (int i = v1::HistoryAction_MIN + 1; i <= v1::HistoryAction_MAX; ++i) {
    const auto action = static_cast<v1::HistoryAction>(i);
    const std::string name = HistoryActionName(action);
    EXPECT_EQ(HistoryActionFromName(name), action) << name;
  }
  EXPECT_EQ(HistoryActionName(v1::HISTORY_ACTION_STAGE_CHANGED), "stage_changed");
  EXPECT_EQ(HistoryActionFromName("teleported"), v1::HISTORY_ACTION_UNSPECIFIED);
}

TEST(LifecycleTest, OnlyNurturableConsentingLeadsQualify) {
  using handoff::v1::CONSENT_STATUS_OPTED_IN;
  using handoff::v1::CONSENT_STATUS_OPTED_OUT;
  for (v1::LeadStage stage : {v1::LEAD_STAGE_NEW, v1::LEAD_STAGE_NURTURING, v1::LEAD_STAGE_RECYCLED,
                              v1::LEAD_STAGE_CUSTOMER}) {
    EXPECT_THAT(CheckQualifiable(stage, CONSENT_STATUS_OPTED_IN, false), IsOk());
    EXPECT_THAT(CheckQualifiable(stage, CONSENT_STATUS_OPTED_OUT, false),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("opted out")));
    EXPECT_THAT(CheckQualifiable(stage, CONSENT_STATUS_OPTED_IN, true),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("erased")));
  }
  for (v1::LeadStage stage : {v1::LEAD_STAGE_MARKETING_QUALIFIED, v1::LEAD_STAGE_HANDED_OFF,
                              v1::LEAD_STAGE_SALES_ACCEPTED, v1::LEAD_STAGE_DISQUALIFIED}) {
    EXPECT_THAT(CheckQualifiable(stage, CONSENT_STATUS_OPTED_IN, false),
                StatusIs(absl::StatusCode::kFailedPrecondition));
  }
}

TEST(LifecycleTest, AnEditNeverLiftsAnOptOut) {
  using handoff::v1::ConsentStatus;
  const ConsentStatus out = handoff::v1::CONSENT_STATUS_OPTED_OUT;
  EXPECT_THAT(CheckConsentEdit(out, handoff::v1::CONSENT_STATUS_OPTED_IN),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("ResubscribeLead")));
  EXPECT_THAT(CheckConsentEdit(out, handoff::v1::CONSENT_STATUS_UNKNOWN),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(CheckConsentEdit(out, out), IsOk());
  EXPECT_THAT(CheckConsentEdit(handoff::v1::CONSENT_STATUS_UNKNOWN, out), IsOk());
  EXPECT_THAT(
      CheckConsentEdit(handoff::v1::CONSENT_STATUS_UNKNOWN, handoff::v1::CONSENT_STATUS_OPTED_IN),
      IsOk());
}

TEST(LifecycleTest, TouchMovesNewLeadsToNurturingOnly) {
  EXPECT_EQ(StageAfterTouch(v1::LEAD_STAGE_NEW), v1::LEAD_STAGE_NURTURING);
  EXPECT_EQ(StageAfterTouch(v1::LEAD_STAGE_RECYCLED), v1::LEAD_STAGE_RECYCLED);
  EXPECT_EQ(StageAfterTouch(v1::LEAD_STAGE_HANDED_OFF), v1::LEAD_STAGE_HANDED_OFF);
}

TEST(LifecycleTest, CampaignStateMachine) {
  using S = v1::CampaignState;
  const S kDraft = v1::CAMPAIGN_STATE_DRAFT, kActive = v1::CAMPAIGN_STATE_ACTIVE,
          kPaused = v1::CAMPAIGN_STATE_PAUSED, kDone = v1::CAMPAIGN_STATE_COMPLETED;
  const std::vector<std::pair<S, S>> allowed = {{kDraft, kActive},  {kActive, kPaused},
                                                {kPaused, kActive}, {kActive, kDone},
                                                {kPaused, kDone},   {kDraft, kDraft}};
  for (auto [from, to] : allowed) EXPECT_THAT(CheckCampaignTransition(from, to), IsOk());
  const std::vector<std::pair<S, S>> forbidden = {{kDraft, kPaused}, {kDraft, kDone},
                                                  {kActive, kDraft}, {kDone, kActive},
                                                  {kDone, kDraft},   {kPaused, kDraft}};
  for (auto [from, to] : forbidden) {
    EXPECT_THAT(CheckCampaignTransition(from, to),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("cannot go from")));
  }
}

}  // namespace
}  // namespace funnel::marketing
