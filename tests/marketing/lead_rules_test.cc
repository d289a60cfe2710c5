#include "marketing_service/lead_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_util.h"
#include "handoff/contract.h"

namespace funnel::marketing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

v1::Lead KnownLead() {
  v1::Lead lead;
  lead.set_lead_id(7);
  lead.mutable_contact()->set_email("ada@example.com");
  lead.mutable_contact()->set_first_name("Ada");
  lead.set_consent(handoff::v1::CONSENT_STATUS_UNKNOWN);
  return lead;
}

TEST(MergeCaptureTest, FillsOnlyEmptyFieldsAndNamesThem) {
  v1::Lead lead = KnownLead();
  v1::CaptureLeadRequest capture;
  capture.mutable_contact()->set_first_name("Augusta");  // never overwrites
  capture.mutable_contact()->set_company("Analytical Engines");
  capture.mutable_contact()->set_company_size(40);
  EXPECT_THAT(MergeCapture(lead, capture), ElementsAre("company", "company_size"));
  EXPECT_EQ(lead.contact().first_name(), "Ada");
  EXPECT_EQ(lead.contact().company(), "Analytical Engines");
  EXPECT_THAT(MergeCapture(lead, capture), IsEmpty());
}

TEST(MergeCaptureTest, KeepsTheFirstReferrerAndNeverTheLeadItself) {
  v1::Lead lead = KnownLead();
  v1::CaptureLeadRequest capture;
  capture.set_referrer_lead_id(lead.lead_id());
  EXPECT_THAT(MergeCapture(lead, capture), IsEmpty());
  capture.set_referrer_lead_id(3);
  EXPECT_THAT(MergeCapture(lead, capture), ElementsAre("referrer"));
  capture.set_referrer_lead_id(4);
  EXPECT_THAT(MergeCapture(lead, capture), IsEmpty());
  EXPECT_EQ(lead.referrer_lead_id(), 3);
}

TEST(MergeCaptureTest, TakesConsentOnlyOverUnknownAndNeverLiftsAnOptOut) {
  v1::Lead lead = KnownLead();
  v1::CaptureLeadRequest capture;
  capture.set_consent(handoff::v1::CONSENT_STATUS_OPTED_OUT);
  EXPECT_THAT(MergeCapture(lead, capture), ElementsAre("consent"));
  EXPECT_EQ(lead.consent(), handoff::v1::CONSENT_STATUS_OPTED_OUT);
  capture.set_consent(handoff::v1::CONSENT_STATUS_OPTED_IN);
  EXPECT_THAT(MergeCapture(lead, capture), IsEmpty());
  EXPECT_EQ(lead.consent(), handoff::v1::CONSENT_STATUS_OPTED_OUT);
}

TEST(AbsorbDuplicatesTest, FillsEmptyFieldsInTurnAndNeverOverwrites) {
  v1::Lead survivor = KnownLead();
  v1::Lead first;
  first.mutable_contact()->set_email("ada.l@gmail.com");
  first.mutable_contact()->set_first_name("Augusta");
  first.mutable_contact()->set_phone("+44 20 7946 0000");
  v1::Lead second;
  second.mutable_contact()->set_phone("+44 1 2345");
  second.mutable_contact()->set_company("Analytical");
  second.mutable_contact()->set_company_size(40);
  EXPECT_THAT(AbsorbDuplicates(survivor, {first, second}),
              ElementsAre("phone", "company", "company_size"));
  EXPECT_EQ(survivor.contact().email(), "ada@example.com");
  EXPECT_EQ(survivor.contact().first_name(), "Ada");
  EXPECT_EQ(survivor.contact().phone(), "+44 20 7946 0000");
  EXPECT_EQ(survivor.contact().company(), "Analytical");
  EXPECT_EQ(survivor.contact().company_size(), 40);
}

TEST(AbsorbDuplicatesTest, TakesTheLifecycleOfTheLeadFurthestAlong) {
  v1::Lead survivor = KnownLead();
  survivor.set_stage(v1::LEAD_STAGE_NURTURING);
  v1::Lead handed;
  handed.set_stage(v1::LEAD_STAGE_HANDED_OFF);
  handed.set_handoff_id("h-1");
  handed.set_qualification_note("asked for a demo");
  v1::Lead recycled;
  recycled.set_stage(v1::LEAD_STAGE_RECYCLED);
  recycled.set_handoff_id("h-0");
  recycled.set_recycle_reason(handoff::v1::REJECTION_REASON_NOT_A_FIT);
  EXPECT_THAT(AbsorbDuplicates(survivor, {recycled, handed}), ElementsAre("stage"));
  EXPECT_EQ(survivor.stage(), v1::LEAD_STAGE_HANDED_OFF);
  EXPECT_EQ(survivor.handoff_id(), "h-1");
  EXPECT_EQ(survivor.qualification_note(), "asked for a demo");
  EXPECT_EQ(survivor.recycle_reason(), handoff::v1::REJECTION_REASON_UNSPECIFIED);

  // On a tie the survivor keeps its own.
  v1::Lead also_handed = handed;
  also_handed.set_handoff_id("h-2");
  EXPECT_THAT(AbsorbDuplicates(survivor, {also_handed}), IsEmpty());
  EXPECT_EQ(survivor.handoff_id(), "h-1");
  // A disqualified record says less than any live one.
  v1::Lead ruled_out = KnownLead();
  ruled_out.set_stage(v1::LEAD_STAGE_DISQUALIFIED);
  v1::Lead fresh;
  fresh.set_stage(v1::LEAD_STAGE_NEW);
  AbsorbDuplicates(ruled_out, {fresh});
  EXPECT_EQ(ruled_out.stage(), v1::LEAD_STAGE_NEW);
  EXPECT_GT(LifecycleRank(v1::LEAD_STAGE_CUSTOMER), LifecycleRank(v1::LEAD_STAGE_SALES_ACCEPTED));
}

TEST(AbsorbDuplicatesTest, KeepsTheFirstTouchAndTakesTheLatestLastTouch) {
  v1::Lead survivor = KnownLead();
  survivor.set_last_touch_campaign_id(3);
  *survivor.mutable_last_touch_time() = common::ToProtoTime(absl::FromUnixSeconds(2000));
  v1::Lead older;
  older.set_first_touch_campaign_id(1);
  older.set_last_touch_campaign_id(1);
  *older.mutable_last_touch_time() = common::ToProtoTime(absl::FromUnixSeconds(1000));
  v1::Lead later;
  later.set_first_touch_campaign_id(2);
  later.set_last_touch_campaign_id(4);
  *later.mutable_last_touch_time() = common::ToProtoTime(absl::FromUnixSeconds(3000));
  AbsorbDuplicates(survivor, {older, later});
  EXPECT_EQ(survivor.first_touch_campaign_id(), 1);  // the survivor had none
  EXPECT_EQ(survivor.last_touch_campaign_id(), 4);
  EXPECT_EQ(common::FromProtoTime(survivor.last_touch_time()), absl::FromUnixSeconds(3000));
}

TEST(MergedConsentTest, AnOptOutAnywhereWinsThenNotKnowing) {
  v1::Lead in = KnownLead();
  in.set_consent(handoff::v1::CONSENT_STATUS_OPTED_IN);
  v1::Lead unknown = in;
  unknown.set_consent(handoff::v1::CONSENT_STATUS_UNKNOWN);
  v1::Lead out = in;
  out.set_consent(handoff::v1::CONSENT_STATUS_OPTED_OUT);
  EXPECT_EQ(MergedConsent(in, {in}), handoff::v1::CONSENT_STATUS_OPTED_IN);
  EXPECT_EQ(MergedConsent(in, {unknown}), handoff::v1::CONSENT_STATUS_UNKNOWN);
  EXPECT_EQ(MergedConsent(in, {unknown, out, in}), handoff::v1::CONSENT_STATUS_OPTED_OUT);
}

TEST(LeadHandoffTest, MarksTheLeadAndSnapshotsWhatSalesNeeds) {
  v1::Lead lead = KnownLead();
  lead.set_stage(v1::LEAD_STAGE_RECYCLED);
  lead.set_recycle_reason(handoff::v1::REJECTION_REASON_NOT_A_FIT);
  lead.set_score(71.5);
  lead.set_first_touch_campaign_id(3);
  lead.set_last_touch_campaign_id(4);
  MarkQualified(lead, "h-1", "asked for a demo");
  EXPECT_EQ(lead.stage(), v1::LEAD_STAGE_MARKETING_QUALIFIED);
  EXPECT_EQ(lead.handoff_id(), "h-1");
  EXPECT_EQ(lead.recycle_reason(), handoff::v1::REJECTION_REASON_UNSPECIFIED);

  QualificationFacts facts;
  facts.handoff_id = "h-1";
  facts.method = handoff::v1::QUALIFICATION_METHOD_MANUAL;
  facts.note = "asked for a demo";
  facts.qualified_by = "marketer";
  facts.qualify_time = absl::FromUnixSeconds(1000);
  facts.touchpoint_counts.emplace_back().set_count(2);
  facts.last_touch_time = absl::FromUnixSeconds(900);
  const handoff::v1::LeadHandoff event = BuildLeadHandoff(lead, facts);
  EXPECT_EQ(event.handoff_id(), "h-1");
  EXPECT_EQ(event.lead_id(), 7);
  EXPECT_EQ(event.contact().email(), "ada@example.com");
  EXPECT_EQ(event.score(), 71.5);
  EXPECT_EQ(event.qualification().note(), "asked for a demo");
  EXPECT_EQ(event.qualification().qualified_by(), "marketer");
  EXPECT_EQ(common::FromProtoTime(event.qualification().qualify_time()),
            absl::FromUnixSeconds(1000));
  EXPECT_EQ(event.first_touch_campaign_id(), 3);
  EXPECT_EQ(event.last_touch_campaign_id(), 4);
  ASSERT_EQ(event.touchpoints().counts_size(), 1);
  EXPECT_EQ(common::FromProtoTime(event.touchpoints().last_touch_time()),
            absl::FromUnixSeconds(900));
  EXPECT_EQ(event.contract_version(), handoff::kContractVersion);
}

TEST(RecycleTest, BackAtTheWarmThresholdNeverBelowZero) {
  EXPECT_DOUBLE_EQ(RecycledEngagement(20, 5), 15);
  EXPECT_DOUBLE_EQ(RecycledEngagement(20, 35), 0);
}

TEST(DecisionTest, MovesALeadUnlessMarketingDisqualifiedOrErasedItFirst) {
  v1::Lead lead;
  lead.set_stage(v1::LEAD_STAGE_HANDED_OFF);
  EXPECT_TRUE(DecisionMovesLead(lead));
  lead.set_stage(v1::LEAD_STAGE_DISQUALIFIED);
  EXPECT_FALSE(DecisionMovesLead(lead));
  ErasePersonalData(lead);
  EXPECT_FALSE(DecisionMovesLead(lead));
}

TEST(EraseTest, RemovesWhatNamesThePersonAndKeepsTheFacts) {
  v1::Lead lead = KnownLead();
  lead.mutable_contact()->set_phone("555");
  lead.mutable_contact()->set_industry("software");
  lead.set_qualification_note("Ada called");
  lead.set_score(30);
  ErasePersonalData(lead);
  EXPECT_EQ(lead.contact().email(), "");
  EXPECT_EQ(lead.contact().first_name(), "");
  EXPECT_EQ(lead.contact().phone(), "");
  EXPECT_EQ(lead.qualification_note(), "");
  EXPECT_EQ(lead.contact().industry(), "software");
  EXPECT_EQ(lead.score(), 30);
  EXPECT_TRUE(lead.erased());
  EXPECT_EQ(lead.stage(), v1::LEAD_STAGE_DISQUALIFIED);
}

TEST(OutcomeTest, TheHighestRevisionWinsWhateverTheOrder) {
  EXPECT_TRUE(SupersedesOutcome(std::nullopt, 1));
  EXPECT_TRUE(SupersedesOutcome(1, 2));
  EXPECT_FALSE(SupersedesOutcome(3, 2));
  EXPECT_FALSE(SupersedesOutcome(2, 2));
  // Senders before 1.1 send no revision: the latest arrival holds.
  EXPECT_TRUE(SupersedesOutcome(std::nullopt, 0));
  EXPECT_TRUE(SupersedesOutcome(0, 0));
  EXPECT_TRUE(SupersedesOutcome(0, 1));
  EXPECT_FALSE(SupersedesOutcome(1, 0));
}

TEST(OutcomeTest, ACorrectionMovesTheLeadOutOfCustomer) {
  v1::Lead lead;
  lead.set_stage(v1::LEAD_STAGE_SALES_ACCEPTED);
  handoff::v1::DealOutcome won;
  won.set_outcome(handoff::v1::OUTCOME_WON);
  EXPECT_EQ(ApplyOutcomeToLead(lead, won), v1::LEAD_STAGE_SALES_ACCEPTED);
  EXPECT_EQ(lead.stage(), v1::LEAD_STAGE_CUSTOMER);
  handoff::v1::DealOutcome lost;
  lost.set_outcome(handoff::v1::OUTCOME_LOST);
  lost.set_loss_reason(handoff::v1::LOSS_REASON_PRICE);
  EXPECT_EQ(ApplyOutcomeToLead(lead, lost), v1::LEAD_STAGE_CUSTOMER);
  EXPECT_EQ(lead.stage(), v1::LEAD_STAGE_SALES_ACCEPTED);
  EXPECT_EQ(lead.loss_reason(), handoff::v1::LOSS_REASON_PRICE);
  handoff::v1::DealOutcome reopened;
  reopened.set_outcome(handoff::v1::OUTCOME_REOPENED);
  ApplyOutcomeToLead(lead, reopened);
  EXPECT_EQ(lead.stage(), v1::LEAD_STAGE_SALES_ACCEPTED);
  EXPECT_EQ(lead.loss_reason(), handoff::v1::LOSS_REASON_UNSPECIFIED);
  // An erased lead stays erased.
  lead.set_stage(v1::LEAD_STAGE_DISQUALIFIED);
  ApplyOutcomeToLead(lead, won);
  EXPECT_EQ(lead.stage(), v1::LEAD_STAGE_DISQUALIFIED);
}

}  // namespace
}  // namespace funnel::marketing
