// Store behaviour against the real MariaDB.

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "common/testing/status_matchers.h"
#include "funnel/handoff/v1/handoff.pb.h"
#include "handoff/contract.h"
#include "tests/marketing/marketing_fixture.h"

namespace funnel::marketing {
namespace {

using ::funnel::testing::IsOk;
using ::funnel::testing::StatusIs;
using handoff::v1::TOUCHPOINT_TYPE_DEMO_REQUEST;
using handoff::v1::TOUCHPOINT_TYPE_EMAIL_CLICK;
using handoff::v1::TOUCHPOINT_TYPE_WEBINAR_ATTENDED;
using ::testing::HasSubstr;

using LeadStoreTest = MarketingFixture;

TEST_F(LeadStoreTest, ConcurrentCapturesOfOneEmailMakeExactlyOneLead) {
  const int64_t campaign = ActiveCampaign("launch");
  std::vector<std::thread> threads;
  std::vector<absl::StatusOr<v1::CaptureLeadResponse>> results(16, absl::UnknownError("unset"));
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      results[i] = leads_.Capture(
          Capture("same@example.com", campaign, TOUCHPOINT_TYPE_EMAIL_CLICK), "test", absl::Now());
    });
  }
  for (auto& t : threads) t.join();
  int created = 0;
  std::set<int64_t> ids;
  for (const auto& r : results) {
    ASSERT_THAT(r, IsOk());
    created += r->created();
    ids.insert(r->lead().lead_id());
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM leads"), 1);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM touchpoints"), 16);  // every touch recorded
}

// Callers sharing one request_id whose captures land in one group-committed batch:
// every one gets the first call's answer, never an empty one (lead_id 0 came back
// for some of them once).
TEST_F(LeadStoreTest, ConcurrentCapturesWithOneRequestIdAllGetTheFirstAnswer) {
  const int64_t campaign = ActiveCampaign("retry-storm");
  v1::CaptureLeadRequest request =
      Capture("storm@example.com", campaign, TOUCHPOINT_TYPE_EMAIL_CLICK);
  request.set_request_id("storm-1");
  for (int round = 0; round < 5; ++round) {
    std::vector<std::thread> threads;
    std::vector<absl::StatusOr<v1::CaptureLeadResponse>> results(64, absl::UnknownError("unset"));
    for (int i = 0; i < 64; ++i) {
      threads.emplace_back([&, i] { results[i] = leads_.Capture(request, "t", absl::Now()); });
    }
    for (auto& t : threads) t.join();
    for (const auto& r : results) {
      ASSERT_THAT(r, IsOk());
      EXPECT_GT(r->lead().lead_id(), 0);
      EXPECT_EQ(r->lead().contact().email(), "storm@example.com");
    }
  }
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM leads"), 1);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM touchpoints"), 1);
}

// Batches that create leads side by side (import streams) with the same new emails:
// one lead per email whatever the interleaving, every capture recorded.
TEST_F(LeadStoreTest, ConcurrentBatchesOfTheSameNewEmailsMakeOneLeadEach) {
  const int64_t campaign = ActiveCampaign("side-by-side");
  std::vector<std::thread> threads;
  std::vector<std::vector<absl::StatusOr<v1::CaptureLeadResponse>>> results(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<CaptureItem> batch;
      for (int i = 0; i < 50; ++i) {
        const int n = t % 2 == 0 ? i : 49 - i;  // two orders
        batch.push_back(
            {Capture(absl::StrCat("new", n, "@example.com"), campaign, TOUCHPOINT_TYPE_EMAIL_CLICK),
             "t", absl::Now()});
      }
      results[t] = leads_.CaptureMany(batch);
    });
  }
  for (auto& t : threads) t.join();
  int created = 0;
  for (const auto& batch : results) {
    for (const auto& r : batch) {
      ASSERT_THAT(r, IsOk());
      EXPECT_GT(r->lead().lead_id(), 0);
      created += r->created();
    }
  }
  EXPECT_EQ(created, 50);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM leads"), 50);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM touchpoints"), 200);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM touchpoints t LEFT JOIN leads l USING (lead_id) "
                         "WHERE l.lead_id IS NULL"),
            0);
  EXPECT_EQ(db_.QueryInt("SELECT SUM(captured) FROM lead_days"), 50);
}

// A lead the batch creates and then makes hot is qualified in the same batch: the
// handoff, its event and every row written for the lead carry the lead's stored id.
TEST_F(LeadStoreTest, LeadCreatedAndMadeHotInOneBatchIsQualified) {
  const int64_t campaign = ActiveCampaign("hot-batch");
  std::vector<CaptureItem> batch;
  for (const char* email : {"hot@example.com", "other@example.com", "hot@example.com"}) {
    batch.push_back(
        {Capture(email, campaign, TOUCHPOINT_TYPE_DEMO_REQUEST), "t", absl::Now()});  // 40 each
  }
  const auto results = leads_.CaptureMany(batch);
  for (const auto& r : results) ASSERT_THAT(r, IsOk());
  EXPECT_TRUE(results[0]->created());
  EXPECT_FALSE(results[2]->created());
  const int64_t hot = db_.QueryInt("SELECT lead_id FROM leads WHERE email = 'hot@example.com'");
  EXPECT_EQ(results[0]->lead().lead_id(), hot);
  EXPECT_EQ(results[2]->lead().lead_id(), hot);
  EXPECT_EQ(results[1]->lead().lead_id(),
            db_.QueryInt("SELECT lead_id FROM leads WHERE email = 'other@example.com'"));
  EXPECT_EQ(results[2]->lead().stage(), v1::LEAD_STAGE_MARKETING_QUALIFIED);
  EXPECT_EQ(results[0]->lead().create_time().seconds(), results[2]->lead().create_time().seconds());

  auto stored = leads_.FindLead(hot);
  ASSERT_THAT(stored, IsOk());
  EXPECT_EQ(stored->stage(), v1::LEAD_STAGE_MARKETING_QUALIFIED);
  EXPECT_EQ(stored->etag(), results[2]->lead().etag());
  EXPECT_EQ(stored->create_time().seconds(), results[2]->lead().create_time().seconds());
  EXPECT_EQ(stored->create_time().nanos(), results[2]->lead().create_time().nanos());
  EXPECT_EQ(db_.QueryInt(absl::StrCat(
                "SELECT COUNT(*) FROM handoffs WHERE lead_id = ", hot,
                " AND lead_created_at = (SELECT created_at FROM leads WHERE lead_id = ", hot, ")")),
            1);
  EXPECT_EQ(db_.QueryInt(absl::StrCat("SELECT COUNT(*) FROM outbox WHERE lead_id = ", hot)), 1);
  EXPECT_EQ(db_.QueryInt(absl::StrCat("SELECT COUNT(*) FROM touchpoints WHERE lead_id = ", hot)),
            2);
  for (const char* table :
       {"touchpoints", "lead_history", "handoffs", "outbox", "campaign_leads"}) {
    EXPECT_EQ(db_.QueryInt(absl::StrCat("SELECT COUNT(*) FROM ", table, " WHERE lead_id <= 0")), 0)
        << table;
  }
}

TEST_F(LeadStoreTest, MergeFillsOnlyEmptyFields) {
  v1::CaptureLeadRequest first = Capture("ada@example.com");
  first.mutable_contact()->set_first_name("Ada");
  ASSERT_THAT(leads_.Capture(first, "test", absl::Now()), IsOk());
  v1::CaptureLeadRequest second = Capture("ada@example.com");
  second.mutable_contact()->set_first_name("Someone Else");
  second.mutable_contact()->set_company("Analytical Engines");
  auto merged = leads_.Capture(second, "test", absl::Now());
  ASSERT_THAT(merged, IsOk());
  EXPECT_FALSE(merged->created());
  EXPECT_EQ(merged->lead().contact().first_name(), "Ada");
  EXPECT_EQ(merged->lead().contact().company(), "Analytical Engines");
}

TEST_F(LeadStoreTest, PagesStayStableWhileLeadsAreInserted) {
  for (int i = 0; i < 25; ++i) {
    ASSERT_THAT(leads_.Capture(Capture(absl::StrCat("p", i, "@example.com")), "t", absl::Now()),
                IsOk());
  }
  LeadFilter filter;
  filter.scope = "test";
  std::vector<int64_t> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = leads_.ListLeads(filter, 10, token);
    ASSERT_THAT(page, IsOk());
    for (const auto& lead : page->leads()) seen.push_back(lead.lead_id());
    token = page->next_page_token();
    // New leads arrive between pages; newest-first keyset pagination must neither
    // repeat nor skip the leads that existed when listing began.
    for (int i = 0; i < 3; ++i) {
      ASSERT_THAT(leads_.Capture(Capture(absl::StrCat("new", pages, "_", i, "@example.com")), "t",
                                 absl::Now()),
                  IsOk());
    }
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 25u);
  EXPECT_TRUE(std::is_sorted(seen.rbegin(), seen.rend()));
}

// On a Galera cluster each node hands out its own ids (1, 4, 7 on one; 2, 5, 8 on
// another): a higher id is not a later capture. Newest first is by capture time.
TEST_F(LeadStoreTest, NewestFirstIsByCaptureTimeNotById) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 7; ++i) {
    auto r = leads_.Capture(Capture(absl::StrCat("t", i, "@example.com")), "t", absl::Now());
    ASSERT_THAT(r, IsOk());
    ids.push_back(r->lead().lead_id());
  }
  // Captured in the order 3, 0, 5, 1, 6, 2, 4 (two share a microsecond).
  const std::vector<std::string> times = {
      "2026-03-01 10:00:00.000002", "2026-03-01 10:00:00.000004", "2026-03-01 10:00:00.000006",
      "2026-03-01 10:00:00.000001", "2026-03-01 10:00:00.000007", "2026-03-01 10:00:00.000004",
      "2026-03-01 10:00:00.000008"};
  for (size_t i = 0; i < ids.size(); ++i) {
    db_.Execute(
        absl::StrCat("UPDATE leads SET created_at = '", times[i], "' WHERE lead_id = ", ids[i]));
  }
  LeadFilter filter;
  filter.scope = "time";
  std::vector<int64_t> seen;
  std::string token;
  do {
    auto page = leads_.ListLeads(filter, 2, token);
    ASSERT_THAT(page, IsOk());
    for (const auto& lead : page->leads()) seen.push_back(lead.lead_id());
    token = page->next_page_token();
  } while (!token.empty());
  EXPECT_EQ(seen, (std::vector<int64_t>{ids[6], ids[4], ids[2], ids[5], ids[1], ids[0], ids[3]}));
}

TEST_F(LeadStoreTest, ScoreOrderPagesCoverEveryLeadOnce) {
  const int64_t campaign = ActiveCampaign("c");
  for (int i = 0; i < 12; ++i) {
    auto r = leads_.Capture(
        Capture(absl::StrCat("s", i, "@example.com"), campaign,
                i % 2 ? TOUCHPOINT_TYPE_EMAIL_CLICK : TOUCHPOINT_TYPE_WEBINAR_ATTENDED),
        "t", absl::Now());
    ASSERT_THAT(r, IsOk());
  }
  LeadFilter filter;
  filter.order = v1::LEAD_ORDER_SCORE_DESC;
  filter.scope = "score";
  std::set<int64_t> ids;
  double last = 1e18;
  std::string token;
  do {
    auto page = leads_.ListLeads(filter, 5, token);
    ASSERT_THAT(page, IsOk());
    for (const auto& lead : page->leads()) {
      EXPECT_LE(lead.score(), last);
      last = lead.score();
      EXPECT_TRUE(ids.insert(lead.lead_id()).second);
    }
    token = page->next_page_token();
  } while (!token.empty());
  EXPECT_EQ(ids.size(), 12u);
}

TEST_F(LeadStoreTest, StaleEtagIsAbortedAndChangesNothing) {
  auto lead = leads_.Capture(Capture("etag@example.com"), "t", absl::Now());
  ASSERT_THAT(lead, IsOk());
  v1::Lead update = lead->lead();
  update.mutable_contact()->set_company("First");
  ASSERT_THAT(leads_.UpdateLead(update, {"contact.company"}, "", "t", absl::Now()), IsOk());
  update.mutable_contact()->set_company("Second");  // same, now stale, etag
  EXPECT_THAT(leads_.UpdateLead(update, {"contact.company"}, "", "t", absl::Now()),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("etag")));
  EXPECT_EQ(leads_.FindLead(update.lead_id())->contact().company(), "First");
}

TEST_F(LeadStoreTest, RequestIdMakesRetriesReturnTheFirstResult) {
  const int64_t campaign = ActiveCampaign("c");
  v1::CaptureLeadRequest request =
      Capture("retry@example.com", campaign, TOUCHPOINT_TYPE_EMAIL_CLICK);
  request.set_request_id("req-1");
  auto first = leads_.Capture(request, "t", absl::Now());
  auto second = leads_.Capture(request, "t", absl::Now());
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  EXPECT_TRUE(second->created());  // the first answer, replayed
  EXPECT_FALSE(first->replayed());
  EXPECT_TRUE(second->replayed());
  EXPECT_EQ(first->lead().SerializeAsString(), second->lead().SerializeAsString());
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM touchpoints"), 1);

  v1::RecordTouchpointRequest touch;
  touch.set_lead_id(first->lead().lead_id());
  touch.set_type(TOUCHPOINT_TYPE_DEMO_REQUEST);
  touch.set_request_id("touch-1");
  ASSERT_THAT(leads_.RecordTouchpoint(touch, "t", absl::Now(), "touch-1"), IsOk());
  ASSERT_THAT(leads_.RecordTouchpoint(touch, "t", absl::Now(), "touch-1"), IsOk());
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM touchpoints"), 2);
}

// A lead's touchpoints and history page by id, each row once, the last page
// without a token; another lead's rows never show.
TEST_F(LeadStoreTest, TouchpointsAndHistoryPageByIdEachRowOnce) {
  auto lead = leads_.Capture(Capture("pager@example.com"), "t", absl::Now());
  auto other = leads_.Capture(Capture("other@example.com"), "t", absl::Now());
  ASSERT_THAT(lead, IsOk());
  ASSERT_THAT(other, IsOk());
  for (int i = 0; i < 4; ++i) {
    for (int64_t id : {lead->lead().lead_id(), other->lead().lead_id()}) {
      v1::RecordTouchpointRequest touch;
      touch.set_lead_id(id);
      touch.set_type(TOUCHPOINT_TYPE_EMAIL_CLICK);
      ASSERT_THAT(leads_.RecordTouchpoint(touch, "t", absl::Now()), IsOk());
    }
  }
  const int64_t id = lead->lead().lead_id();
  std::vector<int64_t> touchpoints;
  std::string token;
  do {
    auto page = leads_.ListTouchpoints(id, 3, token);
    ASSERT_THAT(page, IsOk());
    for (const auto& t : page->touchpoints()) {
      EXPECT_EQ(t.lead_id(), id);
      touchpoints.push_back(t.touchpoint_id());
    }
    token = page->next_page_token();
  } while (!token.empty());
  EXPECT_EQ(touchpoints.size(), 4u);
  EXPECT_TRUE(std::is_sorted(touchpoints.begin(), touchpoints.end()));
  std::vector<int64_t> entries;
  do {
    auto page = leads_.ListHistory(id, 2, token);
    ASSERT_THAT(page, IsOk());
    for (const auto& e : page->entries()) {
      EXPECT_EQ(e.lead_id(), id);
      entries.push_back(e.entry_id());
    }
    token = page->next_page_token();
  } while (!token.empty());
  EXPECT_EQ(static_cast<int64_t>(entries.size()),
            db_.QueryInt(absl::StrCat("SELECT COUNT(*) FROM lead_history WHERE lead_id = ", id)));
  EXPECT_TRUE(std::is_sorted(entries.begin(), entries.end()));
  EXPECT_THAT(leads_.ListTouchpoints(id, 3, "not a token"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
}

TEST_F(LeadStoreTest, HotLeadIsQualifiedOnceWithAHandoffEvent) {
  const int64_t campaign = ActiveCampaign("c");
  auto lead = leads_.Capture(Capture("hot@example.com", campaign, TOUCHPOINT_TYPE_DEMO_REQUEST),
                             "t", absl::Now());  // 40
  ASSERT_THAT(lead, IsOk());
  EXPECT_EQ(lead->lead().temperature(), handoff::v1::TEMPERATURE_WARM);
  v1::RecordTouchpointRequest touch;
  touch.set_lead_id(lead->lead().lead_id());
  touch.set_campaign_id(campaign);
  touch.set_type(TOUCHPOINT_TYPE_WEBINAR_ATTENDED);  // +15 = 55
  ASSERT_THAT(leads_.RecordTouchpoint(touch, "t", absl::Now()), IsOk());
  touch.set_type(TOUCHPOINT_TYPE_EMAIL_CLICK);  // +5 = 60: hot
  auto hot = leads_.RecordTouchpoint(touch, "t", absl::Now());
  ASSERT_THAT(hot, IsOk());
  EXPECT_EQ(hot->lead().temperature(), handoff::v1::TEMPERATURE_HOT);
  EXPECT_EQ(hot->lead().stage(), v1::LEAD_STAGE_MARKETING_QUALIFIED);
  EXPECT_FALSE(hot->lead().handoff_id().empty());
  ASSERT_THAT(leads_.RecordTouchpoint(touch, "t", absl::Now()), IsOk());  // still hot
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM handoffs"), 1);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM outbox WHERE kind = 'LeadHandoff'"), 1);
}

TEST_F(LeadStoreTest, OptedOutLeadIsNeverQualified) {
  auto lead = leads_.Capture(Capture("out@example.com"), "t", absl::Now());
  ASSERT_THAT(lead, IsOk());
  ASSERT_THAT(leads_.Unsubscribe("out@example.com", "", "t"), IsOk());
  v1::RecordTouchpointRequest touch;
  touch.set_lead_id(lead->lead().lead_id());
  touch.set_type(TOUCHPOINT_TYPE_DEMO_REQUEST);
  for (int i = 0; i < 3; ++i) ASSERT_THAT(leads_.RecordTouchpoint(touch, "t", absl::Now()), IsOk());
  auto after = leads_.FindLead(lead->lead().lead_id());
  EXPECT_EQ(after->temperature(), handoff::v1::TEMPERATURE_HOT);
  EXPECT_NE(after->stage(), v1::LEAD_STAGE_MARKETING_QUALIFIED);
  EXPECT_THAT(leads_.Qualify(after->lead_id(), "please", "", "t", absl::Now()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("opted out")));
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM outbox"), 0);
}

TEST_F(LeadStoreTest, OptingOutWithdrawsAHandoffNotYetDelivered) {
  auto lead = leads_.Capture(Capture("late-optout@example.com"), "t", absl::Now());
  ASSERT_THAT(lead, IsOk());
  ASSERT_THAT(leads_.Qualify(lead->lead().lead_id(), "asked for a call", "", "t", absl::Now()),
              IsOk());
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL"), 1);
  ASSERT_THAT(leads_.Unsubscribe("late-optout@example.com", "", "t"), IsOk());
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM outbox"), 0);  // nothing left to send to sales
  auto after = leads_.FindLead(lead->lead().lead_id());
  EXPECT_EQ(after->stage(), v1::LEAD_STAGE_NURTURING);
  EXPECT_EQ(after->consent(), handoff::v1::CONSENT_STATUS_OPTED_OUT);
}

// A handoff a relay has claimed (or tried before) may be in sales already, its
// delivery not yet recorded: it is not withdrawn, and the opt-out follows it (the
// relay keeps one lead's events in order), so sales withdraws it on its side.
TEST_F(LeadStoreTest, AnOptOutFollowsAHandoffARelayMayHaveSent) {
  for (const char* sent : {"leased_by = 'relay-1', next_attempt_at = NOW(6) + INTERVAL 30 SECOND",
                           "attempts = 1, last_error = 'DEADLINE_EXCEEDED'"}) {
    const std::string email = absl::StrCat("in-flight-", std::string(sent).size(), "@example.com");
    auto lead = leads_.Capture(Capture(email), "t", absl::Now());
    ASSERT_THAT(lead, IsOk());
    const int64_t id = lead->lead().lead_id();
    ASSERT_THAT(leads_.Qualify(id, "asked for a call", "", "t", absl::Now()), IsOk());
    db_.Execute(absl::StrCat("UPDATE outbox SET ", sent, " WHERE lead_id = ", id));
    ASSERT_THAT(leads_.Unsubscribe(email, "", "t"), IsOk());
    EXPECT_EQ(db_.QueryStrings(
                  absl::StrCat("SELECT kind FROM outbox WHERE lead_id = ", id, " ORDER BY seq")),
              (std::vector<std::string>{"LeadHandoff", "ConsentChange"}))
        << sent;
    EXPECT_EQ(leads_.FindLead(id)->stage(), v1::LEAD_STAGE_MARKETING_QUALIFIED) << sent;
  }
}

TEST_F(LeadStoreTest, AnOptOutIsLiftedOnlyByAResubscriptionWithItsSource) {
  auto lead = leads_.Capture(Capture("hot-out@example.com"), "t", absl::Now());
  ASSERT_THAT(lead, IsOk());
  ASSERT_THAT(leads_.Unsubscribe("hot-out@example.com", "", "t"), IsOk());
  v1::RecordTouchpointRequest touch;
  touch.set_lead_id(lead->lead().lead_id());
  touch.set_type(TOUCHPOINT_TYPE_DEMO_REQUEST);
  for (int i = 0; i < 3; ++i) ASSERT_THAT(leads_.RecordTouchpoint(touch, "t", absl::Now()), IsOk());
  v1::Lead edit = *leads_.FindLead(lead->lead().lead_id());
  ASSERT_EQ(edit.temperature(), handoff::v1::TEMPERATURE_HOT);
  edit.set_consent(handoff::v1::CONSENT_STATUS_OPTED_IN);
  EXPECT_THAT(leads_.UpdateLead(edit, {"consent"}, "", "t", absl::Now()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("ResubscribeLead")));
  EXPECT_EQ(leads_.FindLead(edit.lead_id())->consent(), handoff::v1::CONSENT_STATUS_OPTED_OUT);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM handoffs"), 0);

  const absl::Time given = absl::Now() - absl::Hours(2);
  auto back = leads_.Resubscribe(edit.lead_id(), "double opt-in form", given, "", "t", absl::Now());
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->consent(), handoff::v1::CONSENT_STATUS_OPTED_IN);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM handoffs"), 0);  // it qualifies nothing itself
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM lead_history WHERE action = 'resubscribed' AND "
                         "detail LIKE '%source: double opt-in form; given at: %'"),
            1);
  // Sales never held this lead: nothing crosses the contract.
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM outbox"), 0);
}

TEST_F(LeadStoreTest, ConsentChangesOfAHandedOverLeadCrossTheContract) {
  auto lead = leads_.Capture(Capture("delivered@example.com"), "t", absl::Now());
  ASSERT_THAT(lead, IsOk());
  const int64_t id = lead->lead().lead_id();
  ASSERT_THAT(leads_.Qualify(id, "asked for a call", "", "t", absl::Now()), IsOk());
  db_.Execute("UPDATE outbox SET delivered_at = NOW(6)");  // as the relay would
  db_.Execute("UPDATE handoffs SET delivered_at = NOW(6)");
  ASSERT_THAT(leads_.Unsubscribe("delivered@example.com", "", "t"), IsOk());
  ASSERT_THAT(leads_.Resubscribe(id, "phone call", absl::Now(), "", "t", absl::Now()), IsOk());
  std::vector<handoff::v1::ConsentChange> sent;
  for (const std::string& payload :
       db_.QueryStrings("SELECT payload FROM outbox WHERE kind = 'ConsentChange' ORDER BY seq")) {
    sent.emplace_back().ParseFromString(payload);
  }
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].consent(), handoff::v1::CONSENT_STATUS_OPTED_OUT);
  EXPECT_EQ(sent[0].source(), "unsubscribe");
  EXPECT_EQ(sent[1].consent(), handoff::v1::CONSENT_STATUS_OPTED_IN);
  EXPECT_EQ(sent[1].source(), "phone call");
  EXPECT_EQ(sent[1].lead_id(), id);
  EXPECT_EQ(sent[1].contract_version(), handoff::kContractVersion);
}

TEST_F(LeadStoreTest, AnOptOutFilledInByACaptureWithdrawsAndReachesSales) {
  auto delivered = leads_.Capture(Capture("form-a@example.com"), "t", absl::Now());
  ASSERT_THAT(delivered, IsOk());
  ASSERT_THAT(leads_.Qualify(delivered->lead().lead_id(), "call", "", "t", absl::Now()), IsOk());
  db_.Execute("UPDATE outbox SET delivered_at = NOW(6)");
  db_.Execute("UPDATE handoffs SET delivered_at = NOW(6)");
  auto queued = leads_.Capture(Capture("form-b@example.com"), "t", absl::Now());
  ASSERT_THAT(queued, IsOk());
  ASSERT_THAT(leads_.Qualify(queued->lead().lead_id(), "call", "", "t", absl::Now()), IsOk());
  for (const char* email : {"form-a@example.com", "form-b@example.com"}) {
    v1::CaptureLeadRequest again = Capture(email);
    again.set_consent(handoff::v1::CONSENT_STATUS_OPTED_OUT);
    ASSERT_THAT(leads_.Capture(again, "t", absl::Now()), IsOk());
  }
  // The delivered one's opt-out goes to sales; the queued handoff never leaves.
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM outbox WHERE kind = 'ConsentChange'"), 1);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL"), 1);
  EXPECT_EQ(leads_.FindLead(queued->lead().lead_id())->stage(), v1::LEAD_STAGE_NURTURING);
  EXPECT_EQ(leads_.FindLead(queued->lead().lead_id())->consent(),
            handoff::v1::CONSENT_STATUS_OPTED_OUT);
}

TEST_F(LeadStoreTest, EraseRemovesPersonalDataEverywhereAndQueuesErasure) {
  v1::CaptureLeadRequest request = Capture("erase@example.com");
  request.mutable_contact()->set_first_name("Grace");
  request.mutable_contact()->set_industry("software");
  auto lead = leads_.Capture(request, "t", absl::Now());
  ASSERT_THAT(lead, IsOk());
  ASSERT_THAT(leads_.Qualify(lead->lead().lead_id(), "looks good", "", "t", absl::Now()), IsOk());
  ASSERT_THAT(leads_.Erase(lead->lead().lead_id(), "", "t", absl::Now()), IsOk());
  auto erased = leads_.FindLead(lead->lead().lead_id());
  EXPECT_TRUE(erased->erased());
  EXPECT_EQ(erased->contact().email(), "");
  EXPECT_EQ(erased->contact().first_name(), "");
  EXPECT_EQ(erased->contact().industry(), "software");  // anonymous, kept for counts
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM outbox WHERE kind = 'LeadErasure'"), 1);
  EXPECT_EQ(
      db_.QueryInt("SELECT COUNT(*) FROM outbox WHERE LOCATE('erase@example.com', payload) > 0"),
      0);
  // The address is free again: capturing it makes a new lead.
  auto again = leads_.Capture(Capture("erase@example.com"), "t", absl::Now());
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(again->created());
  EXPECT_THAT(leads_.Erase(lead->lead().lead_id(), "", "t", absl::Now()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(LeadStoreTest, RescoreAppliesANewPolicyAndQualifiesNewlyHotLeads) {
  const int64_t campaign = ActiveCampaign("c");
  auto lead = leads_.Capture(Capture("re@example.com", campaign, TOUCHPOINT_TYPE_DEMO_REQUEST), "t",
                             absl::Now());
  ASSERT_THAT(lead, IsOk());
  auto policy = scoring_.Get();
  ASSERT_THAT(policy, IsOk());
  v1::ScoringPolicy lower = *policy;
  lower.set_hot_threshold(30);
  ASSERT_THAT(scoring_.Update(lower, policy->etag(), ""), IsOk());
  EXPECT_THAT(scoring_.Update(lower, policy->etag(), ""), StatusIs(absl::StatusCode::kAborted));
  auto result = leads_.RescoreAll("", "t", absl::Now());
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->leads_rescored(), 1);
  EXPECT_EQ(result->newly_qualified(), 1);
  EXPECT_EQ(leads_.FindLead(lead->lead().lead_id())->stage(), v1::LEAD_STAGE_MARKETING_QUALIFIED);
}

// A batch that loses a conflict (deadlock 1213: on Galera, a certification
// failure at commit) is run again from the database alone: no lead skipped, none
// counted twice. The conflict is a trigger that fails the second lead's update
// once (its counter is in a non-transactional table, so the rollback keeps it).
TEST_F(LeadStoreTest, ARescoreBatchRetriedAfterAConflictSkipsAndRecountsNothing) {
  const int64_t campaign = ActiveCampaign("c");
  std::vector<int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    auto lead = leads_.Capture(
        Capture(absl::StrCat("retry", i, "@example.com"), campaign, TOUCHPOINT_TYPE_DEMO_REQUEST),
        "t", absl::Now());
    ASSERT_THAT(lead, IsOk());
    ids.push_back(lead->lead().lead_id());
  }
  db_.Execute("CREATE TABLE inject_conflict (remaining INT) ENGINE=Aria");
  db_.Execute("INSERT INTO inject_conflict VALUES (1)");
  db_.Execute(absl::StrCat(
      "CREATE TRIGGER conflict_once BEFORE UPDATE ON leads FOR EACH ROW BEGIN "
      "IF NEW.lead_id = ",
      ids[1],
      " AND (SELECT remaining FROM inject_conflict) > 0 THEN "
      "UPDATE inject_conflict SET remaining = remaining - 1; "
      "SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213, MESSAGE_TEXT = 'injected conflict'; "
      "END IF; END"));
  auto policy = scoring_.Get();
  ASSERT_THAT(policy, IsOk());
  v1::ScoringPolicy lower = *policy;
  lower.set_hot_threshold(30);
  ASSERT_THAT(scoring_.Update(lower, policy->etag(), ""), IsOk());
  auto result = leads_.RescoreAll("", "t", absl::Now());
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(db_.QueryInt("SELECT remaining FROM inject_conflict"), 0);  // it did conflict
  EXPECT_EQ(result->leads_rescored(), 3);
  EXPECT_EQ(result->newly_qualified(), 3);
  for (int64_t id : ids) {
    EXPECT_EQ(leads_.FindLead(id)->stage(), v1::LEAD_STAGE_MARKETING_QUALIFIED) << "lead " << id;
  }
}

TEST_F(LeadStoreTest, MetricsCountWhatWasRecorded) {
  const int64_t campaign = ActiveCampaign("m", /*cost_minor=*/90000);
  for (int i = 0; i < 3; ++i) {
    ASSERT_THAT(leads_.Capture(Capture(absl::StrCat("m", i, "@example.com"), campaign,
                                       TOUCHPOINT_TYPE_EMAIL_CLICK),
                               "t", absl::Now()),
                IsOk());
  }
  ASSERT_THAT(leads_.Unsubscribe("m2@example.com", "", "t"), IsOk());
  auto m = reports_.Metrics(campaign, absl::Now());
  ASSERT_THAT(m, IsOk());
  EXPECT_EQ(m->reach(), 2);  // the opted-out person is not reached
  EXPECT_EQ(m->leads_first_touched(), 3);
  EXPECT_EQ(m->cost_per_lead().amount_minor(), 30000);
  EXPECT_EQ(m->touchpoints_by_type(0).count(), 3);
  EXPECT_EQ(m->mqls(), 0);
  EXPECT_EQ(m->won_deals(), 0);
}

// The pre-aggregated reach and touchpoint counts must equal a recount from the
// tables, whatever mix of paths wrote them: concurrent (group-committed) captures,
// a batch with one lead twice, opt-outs and opt-ins, and single touchpoints.
TEST_F(LeadStoreTest, CampaignCountersAgreeWithARecountOfTheTables) {
  const int64_t a = ActiveCampaign("counted-a");
  const int64_t b = ActiveCampaign("counted-b");
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        v1::CaptureLeadRequest r =
            Capture(absl::StrCat("c", (t * 10 + i) % 30, "@example.com"), i % 2 ? a : b,
                    i % 3 ? TOUCHPOINT_TYPE_EMAIL_CLICK : TOUCHPOINT_TYPE_DEMO_REQUEST);
        if (i == 7) r.set_consent(handoff::v1::CONSENT_STATUS_OPTED_OUT);
        if (i == 9) r.set_consent(handoff::v1::CONSENT_STATUS_OPTED_IN);
        EXPECT_THAT(leads_.Capture(r, "t", absl::Now()), IsOk());
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<CaptureItem> batch;
  for (int i = 0; i < 6; ++i) {
    v1::CaptureLeadRequest r =
        Capture(absl::StrCat("batch", i % 4, "@example.com"), a, TOUCHPOINT_TYPE_WEBINAR_ATTENDED);
    if (i == 5) r.set_consent(handoff::v1::CONSENT_STATUS_OPTED_OUT);
    batch.push_back({r, "t", absl::Now()});
  }
  for (const auto& result : leads_.CaptureMany(batch)) ASSERT_THAT(result, IsOk());
  ASSERT_THAT(leads_.Unsubscribe("c3@example.com", "", "t"), IsOk());
  ASSERT_THAT(leads_.Unsubscribe("c4@example.com", "", "t"), IsOk());
  v1::CaptureLeadRequest back = Capture("c4@example.com");
  back.set_consent(handoff::v1::CONSENT_STATUS_OPTED_IN);
  ASSERT_THAT(leads_.Capture(back, "t", absl::Now()), IsOk());
  const int64_t lead = db_.QueryInt("SELECT lead_id FROM leads WHERE email = 'c5@example.com'");
  for (int64_t campaign : {a, b, int64_t{0}}) {
    v1::RecordTouchpointRequest touch;
    touch.set_lead_id(lead);
    touch.set_campaign_id(campaign);
    touch.set_type(TOUCHPOINT_TYPE_EMAIL_CLICK);
    ASSERT_THAT(leads_.RecordTouchpoint(touch, "t", absl::Now()), IsOk());
  }

  for (int64_t campaign : {a, b}) {
    SCOPED_TRACE(campaign);
    auto m = reports_.Metrics(campaign, absl::Now());
    ASSERT_THAT(m, IsOk());
    EXPECT_EQ(
        m->reach(),
        db_.QueryInt(absl::StrCat(
            "SELECT COUNT(DISTINCT t.lead_id) FROM touchpoints t JOIN leads l USING (lead_id) "
            "WHERE t.campaign_id = ",
            campaign, " AND l.consent <> 3")));
    EXPECT_GT(m->reach(), 0);
    int64_t counted = 0;
    for (const auto& by_type : m->touchpoints_by_type()) {
      EXPECT_EQ(by_type.count(),
                db_.QueryInt(absl::StrCat("SELECT COUNT(*) FROM touchpoints WHERE campaign_id = ",
                                          campaign, " AND type = ", by_type.type())));
      counted += by_type.count();
    }
    EXPECT_EQ(counted, db_.QueryInt(absl::StrCat(
                           "SELECT COUNT(*) FROM touchpoints WHERE campaign_id = ", campaign)));
  }
}

}  // namespace
}  // namespace funnel::marketing
