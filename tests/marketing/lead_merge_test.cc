// Merging leads of one person (LeadStore::MergeLeads) against a real database: what
// moves to the survivor, what the tombstone answers, and that lists and reports
// count the person once.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "tests/marketing/marketing_fixture.h"

namespace funnel::marketing {
namespace {

using ::funnel::testing::IsOk;
using ::funnel::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class LeadMergeTest : public MarketingFixture {
 protected:
  int64_t CaptureLead(v1::CaptureLeadRequest request) {
    auto captured = leads_.Capture(request, "t", absl::Now());
    EXPECT_THAT(captured, IsOk());
    return captured.ok() ? captured->lead().lead_id() : 0;
  }

  int64_t Reach(int64_t campaign_id) {
    auto metrics = reports_.Metrics(campaign_id, absl::Now());
    EXPECT_THAT(metrics, IsOk());
    return metrics.ok() ? metrics->reach() : -1;
  }

  int64_t FirstTouched(int64_t campaign_id) {
    auto metrics = reports_.Metrics(campaign_id, absl::Now());
    return metrics.ok() ? metrics->leads_first_touched() : -1;
  }

  // Leads captured around now, over partial days (from the leads) and over whole
  // days (from the daily counts).
  std::pair<int64_t, int64_t> Captured() {
    const absl::Time now = absl::Now();
    auto hour = reports_.FunnelStats(now - absl::Hours(1), now + absl::Hours(1), 0, 0);
    auto days = reports_.FunnelStats(now - absl::Hours(72), now + absl::Hours(72), 0, 0);
    EXPECT_THAT(hour, IsOk());
    EXPECT_THAT(days, IsOk());
    return {hour.ok() ? hour->leads_captured() : -1, days.ok() ? days->leads_captured() : -1};
  }
};

TEST_F(LeadMergeTest, ThePersonsRecordsMoveToTheSurvivorAndCountOnce) {
  const int64_t spring = ActiveCampaign("spring");
  const int64_t webinar = ActiveCampaign("webinar");
  auto work = Capture("ann@acme.example", spring, handoff::v1::TOUCHPOINT_TYPE_FORM_SUBMIT);
  work.mutable_contact()->set_first_name("Ann");
  const int64_t survivor = CaptureLead(work);
  auto home = Capture("ann.lee@mail.example", spring, handoff::v1::TOUCHPOINT_TYPE_AD_CLICK);
  home.mutable_contact()->set_first_name("Annie");
  home.mutable_contact()->set_phone("+1 555 0100");
  const int64_t duplicate = CaptureLead(home);
  CaptureLead(
      Capture("ann.lee@mail.example", webinar, handoff::v1::TOUCHPOINT_TYPE_WEBINAR_ATTENDED));
  ASSERT_EQ(Reach(spring), 2);
  ASSERT_EQ(Reach(webinar), 1);
  ASSERT_EQ(FirstTouched(spring), 2);
  ASSERT_EQ(Captured(), std::make_pair(int64_t{2}, int64_t{2}));

  auto merged = leads_.MergeLeads(survivor, {duplicate}, "", "marketer", absl::Now());
  ASSERT_THAT(merged, IsOk());
  EXPECT_EQ(merged->lead_id(), survivor);
  EXPECT_EQ(merged->contact().first_name(), "Ann");     // never overwritten
  EXPECT_EQ(merged->contact().phone(), "+1 555 0100");  // filled
  EXPECT_EQ(merged->contact().email(), "ann@acme.example");
  EXPECT_EQ(merged->merged_into_lead_id(), 0);
  EXPECT_EQ(merged->first_touch_campaign_id(), spring);
  EXPECT_EQ(merged->last_touch_campaign_id(), webinar);

  // Counted once: reach, first touches and captures.
  EXPECT_EQ(Reach(spring), 1);
  EXPECT_EQ(Reach(webinar), 1);  // the survivor joined it
  EXPECT_EQ(FirstTouched(spring), 1);
  EXPECT_EQ(Captured(), std::make_pair(int64_t{1}, int64_t{1}));
  auto listed = leads_.ListLeads(LeadFilter{}, 50, "");
  ASSERT_THAT(listed, IsOk());
  ASSERT_THAT(listed->leads(), SizeIs(1));
  EXPECT_EQ(listed->leads(0).lead_id(), survivor);

  // The old id answers the survivor, its touchpoints and its history.
  auto old_id = leads_.FindLead(duplicate);
  ASSERT_THAT(old_id, IsOk());
  EXPECT_EQ(old_id->lead_id(), survivor);
  EXPECT_EQ(old_id->merged_into_lead_id(), survivor);
  auto touches = leads_.ListTouchpoints(duplicate, 50, "");
  ASSERT_THAT(touches, IsOk());
  EXPECT_THAT(touches->touchpoints(), SizeIs(3));
  auto history = leads_.ListHistory(survivor, 100, "");
  ASSERT_THAT(history, IsOk());
  const v1::LeadHistoryEntry& last = *history->entries().rbegin();
  EXPECT_EQ(last.kind(), v1::HISTORY_ACTION_LEADS_MERGED);
  EXPECT_THAT(last.detail(), HasSubstr(absl::StrCat("merged ", duplicate, "; filled phone")));

  // A lookup of the merged-away address finds the survivor.
  LeadFilter by_email;
  by_email.email = "ann.lee@mail.example";
  auto found = leads_.ListLeads(by_email, 10, "");
  ASSERT_THAT(found, IsOk());
  ASSERT_THAT(found->leads(), SizeIs(1));
  EXPECT_EQ(found->leads(0).lead_id(), survivor);

  // A capture of the merged-away address is a capture of the survivor.
  auto again = leads_.Capture(
      Capture("ann.lee@mail.example", webinar, handoff::v1::TOUCHPOINT_TYPE_AD_CLICK), "t",
      absl::Now());
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->lead().lead_id(), survivor);
  EXPECT_FALSE(again->created());
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM leads"), 2);
  EXPECT_EQ(Reach(webinar), 1);

  // A merged-away lead cannot merge or be merged again.
  EXPECT_THAT(leads_.MergeLeads(survivor, {duplicate}, "", "marketer", absl::Now()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(absl::StrCat("duplicate_lead_ids: lead ", duplicate,
                                              " was already merged into lead ", survivor))));
  EXPECT_THAT(leads_.MergeLeads(duplicate, {survivor}, "", "marketer", absl::Now()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("survivor_lead_id")));
}

TEST_F(LeadMergeTest, AHandedOffDuplicateMakesTheSurvivorHandedOffAndTellsSales) {
  auto in = Capture("bo@acme.example");
  in.set_consent(handoff::v1::CONSENT_STATUS_OPTED_IN);
  const int64_t survivor = CaptureLead(in);
  const int64_t duplicate = CaptureLead(Capture("bo.k@mail.example"));
  auto qualified = leads_.Qualify(duplicate, "asked for pricing", "", "t", absl::Now());
  ASSERT_THAT(qualified, IsOk());

  auto merged = leads_.MergeLeads(survivor, {duplicate}, "", "marketer", absl::Now());
  ASSERT_THAT(merged, IsOk());
  EXPECT_EQ(merged->stage(), v1::LEAD_STAGE_MARKETING_QUALIFIED);
  EXPECT_EQ(merged->handoff_id(), qualified->handoff_id());
  EXPECT_EQ(merged->consent(), handoff::v1::CONSENT_STATUS_UNKNOWN);  // the more restrictive
  EXPECT_EQ(db_.QueryInt(absl::StrCat("SELECT lead_id FROM handoffs WHERE handoff_id = '",
                                      qualified->handoff_id(), "'")),
            survivor);
  EXPECT_EQ(db_.QueryInt(absl::StrCat("SELECT COUNT(*) FROM outbox WHERE kind = 'LeadMerged' "
                                      "AND lead_id = ",
                                      survivor)),
            1);

  // An opt-out of the person withdraws the merged lead's handoff no relay has sent.
  auto out = leads_.Unsubscribe("bo.k@mail.example", "", "t");
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(out->lead_id(), survivor);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM outbox WHERE kind = 'LeadHandoff'"), 0);
  auto now_lead = leads_.FindLead(survivor);
  ASSERT_THAT(now_lead, IsOk());
  EXPECT_EQ(now_lead->stage(), v1::LEAD_STAGE_NURTURING);
  EXPECT_EQ(now_lead->consent(), handoff::v1::CONSENT_STATUS_OPTED_OUT);
}

TEST_F(LeadMergeTest, MergesNoLeadNobodyKnowsAndNoErasedOneAndRepeatsAnswerTheFirstTime) {
  const int64_t survivor = CaptureLead(Capture("cy@acme.example"));
  const int64_t duplicate = CaptureLead(Capture("cy.d@mail.example"));
  const int64_t erased = CaptureLead(Capture("gone@mail.example"));
  ASSERT_THAT(leads_.Erase(erased, "", "t", absl::Now()), IsOk());
  EXPECT_THAT(
      leads_.MergeLeads(survivor, {duplicate, 999}, "", "m", absl::Now()),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("duplicate_lead_ids: lead 999 not found")));
  EXPECT_THAT(leads_.MergeLeads(survivor, {erased}, "", "m", absl::Now()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(absl::StrCat("lead ", erased, " is erased"))));
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM leads WHERE merged_into <> 0"), 0);

  auto first = leads_.MergeLeads(survivor, {duplicate}, "merge-1", "m", absl::Now());
  ASSERT_THAT(first, IsOk());
  auto repeat = leads_.MergeLeads(survivor, {duplicate}, "merge-1", "m", absl::Now());
  ASSERT_THAT(repeat, IsOk());
  EXPECT_EQ(repeat->etag(), first->etag());
  EXPECT_EQ(db_.QueryInt(absl::StrCat("SELECT COUNT(*) FROM lead_history WHERE action = "
                                      "'leads_merged' AND lead_id = ",
                                      survivor)),
            1);
}

TEST_F(LeadMergeTest, ErasingThePersonByAnyOfTheirIdsErasesEveryRecord) {
  const int64_t survivor = CaptureLead(Capture("di@acme.example"));
  const int64_t duplicate = CaptureLead(Capture("di.e@mail.example"));
  ASSERT_THAT(leads_.MergeLeads(survivor, {duplicate}, "", "m", absl::Now()), IsOk());
  auto erased = leads_.Erase(duplicate, "", "t", absl::Now());
  ASSERT_THAT(erased, IsOk());
  EXPECT_EQ(erased->lead_id(), survivor);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM leads WHERE email IS NOT NULL"), 0);
  EXPECT_EQ(db_.QueryInt(absl::StrCat("SELECT COUNT(*) FROM outbox WHERE kind = 'LeadErasure' "
                                      "AND lead_id = ",
                                      survivor)),
            1);
}

}  // namespace
}  // namespace funnel::marketing
