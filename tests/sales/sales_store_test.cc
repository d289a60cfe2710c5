// Sales stores against the real MariaDB.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "common/testing/status_matchers.h"
#include "common/time_util.h"
#include "tests/sales/sales_fixture.h"

namespace funnel::sales {
namespace {

using ::funnel::testing::IsOk;
using ::funnel::testing::StatusIs;
using ::testing::HasSubstr;

class SalesStoreTest : public SalesFixture {
 protected:
  // A referral deal at a new account `company`, opened by rep `owner`.
  absl::StatusOr<v1::Opportunity> DealOf(int64_t owner, const std::string& company) {
    v1::Account account;
    account.set_name(company);
    auto acct = directory_.CreateAccount(account, "");
    if (!acct.ok()) return acct.status();
    v1::Opportunity o;
    o.set_name(company + " deal");
    o.set_account_id(acct->account_id());
    o.set_source(v1::SOURCE_REFERRAL);
    return opportunities_.Create(o, {"SALES_REP", owner}, "owner", "", absl::Now());
  }
};

TEST_F(SalesStoreTest, SubmittingAHandoffTwiceChangesNothing) {
  handoff::v1::LeadHandoff lead = Lead(11, "ada@example.com", "Analytical");
  auto first = inbox_.Submit(lead, absl::Now());
  auto second = inbox_.Submit(lead, absl::Now() + absl::Seconds(5));
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  EXPECT_FALSE(first->duplicate());
  EXPECT_TRUE(second->duplicate());
  EXPECT_EQ(first->receive_time().seconds(), second->receive_time().seconds());
  EXPECT_EQ(second->sla_deadline().seconds() - second->receive_time().seconds(), 24 * 3600);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM handoffs"), 1);
}

// Concurrent submissions are written together; a handoff sent twice at once (two
// relay replicas) is recorded once and both senders get its one receipt.
TEST_F(SalesStoreTest, ConcurrentSubmissionsRecordEachHandoffOnce) {
  std::vector<handoff::v1::LeadHandoff> leads;
  for (int i = 0; i < 12; ++i)
    leads.push_back(Lead(100 + i, absl::StrCat("p", i, "@example.com"), "Co"));
  std::vector<absl::StatusOr<handoff::v1::SubmitLeadResponse>> receipts(
      24, absl::UnknownError("unset"));
  std::vector<std::thread> threads;
  for (int t = 0; t < 24; ++t) {
    threads.emplace_back([&, t] { receipts[t] = inbox_.Submit(leads[t % 12], absl::Now()); });
  }
  for (auto& t : threads) t.join();
  std::map<std::string, std::vector<handoff::v1::SubmitLeadResponse>> by_id;
  for (const auto& r : receipts) {
    ASSERT_THAT(r, IsOk());
    by_id[r->handoff_id()].push_back(*r);
  }
  ASSERT_EQ(by_id.size(), 12u);
  for (const auto& [id, both] : by_id) {
    ASSERT_EQ(both.size(), 2u);
    EXPECT_NE(both[0].duplicate(), both[1].duplicate()) << id;  // exactly one first
    EXPECT_EQ(both[0].receive_time().seconds(), both[1].receive_time().seconds());
    EXPECT_EQ(both[0].receive_time().nanos(), both[1].receive_time().nanos());
  }
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM handoffs"), 12);
}

TEST_F(SalesStoreTest, AcceptingTwiceIsIdempotentAndReusesAccountAndContact) {
  const int64_t rep = Rep("rita", v1::REP_ROLE_REP);
  handoff::v1::LeadHandoff a = Lead(1, "ada@example.com", "Analytical Engines");
  handoff::v1::LeadHandoff b = Lead(2, "charles@example.com", "analytical engines");
  ASSERT_THAT(inbox_.Submit(a, absl::Now()), IsOk());
  ASSERT_THAT(inbox_.Submit(b, absl::Now()), IsOk());
  const Caller caller{"SALES_REP", rep};
  auto first = inbox_.Accept(a.handoff_id(), caller, "rita", "", absl::Now());
  auto again = inbox_.Accept(a.handoff_id(), caller, "rita", "", absl::Now());
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(first->opportunity().opportunity_id(), again->opportunity().opportunity_id());
  EXPECT_EQ(first->opportunity().source(), v1::SOURCE_MARKETING);
  EXPECT_EQ(first->opportunity().handoff_id(), a.handoff_id());
  EXPECT_EQ(first->opportunity().owner_rep_id(), rep);
  auto other = inbox_.Accept(b.handoff_id(), caller, "rita", "", absl::Now());
  ASSERT_THAT(other, IsOk());
  // Same company, different letter case: one account, two contacts.
  EXPECT_EQ(other->opportunity().account_id(), first->opportunity().account_id());
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM accounts"), 1);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM contacts"), 2);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM opportunities"), 2);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM outbox WHERE kind = 'HandoffDecision'"), 2);
  EXPECT_THAT(inbox_.Reject(a.handoff_id(), handoff::v1::REJECTION_REASON_NO_BUDGET, "", caller, "",
                            absl::Now()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("ACCEPTED")));
}

TEST_F(SalesStoreTest, ConcurrentStageMovesWithOneEtagLetExactlyOneWin) {
  const int64_t rep = Rep("sam", v1::REP_ROLE_REP);
  v1::Account account;
  account.set_name("Initech");
  auto acct = directory_.CreateAccount(account, "");
  ASSERT_THAT(acct, IsOk());
  v1::Opportunity o;
  o.set_name("Initech deal");
  o.set_account_id(acct->account_id());
  o.set_owner_rep_id(rep);
  o.set_source(v1::SOURCE_SALES_PROSPECTING);
  auto created = opportunities_.Create(o, {}, "t", "", absl::Now());
  ASSERT_THAT(created, IsOk());
  std::vector<absl::StatusOr<v1::Opportunity>> results(8, absl::UnknownError("unset"));
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      results[i] = opportunities_.MoveStage(created->opportunity_id(),
                                            i % 2 ? v1::STAGE_PROPOSAL : v1::STAGE_NEEDS_ANALYSIS,
                                            created->etag(), {}, "t", "", absl::Now());
    });
  }
  for (auto& t : threads) t.join();
  int ok = 0;
  for (const auto& r : results) {
    if (r.ok()) {
      ++ok;
    } else {
      EXPECT_THAT(r, StatusIs(absl::StatusCode::kAborted));
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM stage_changes"), 2);  // creation + one move
}

TEST_F(SalesStoreTest, RepsChangeOnlyWhatTheyOwnManagersTheirTeams) {
  const int64_t boss = Rep("boss", v1::REP_ROLE_MANAGER);
  const int64_t ann = Rep("ann", v1::REP_ROLE_REP, boss);
  const int64_t bob = Rep("bob", v1::REP_ROLE_REP, boss);
  const int64_t other_boss = Rep("other", v1::REP_ROLE_MANAGER);
  auto anns = DealOf(ann, "Globex");
  ASSERT_THAT(anns, IsOk());
  EXPECT_EQ(anns->owner_rep_id(), ann);
  const int64_t id = anns->opportunity_id();
  EXPECT_THAT(opportunities_.MoveStage(id, v1::STAGE_PROPOSAL, "", {"SALES_REP", bob}, "bob", "",
                                       absl::Now()),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("belongs to rep")));
  EXPECT_THAT(opportunities_.MoveStage(id, v1::STAGE_PROPOSAL, "", {"SALES_MANAGER", other_boss},
                                       "o", "", absl::Now()),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(opportunities_.MoveStage(id, v1::STAGE_PROPOSAL, "", {"SALES_MANAGER", boss}, "boss",
                                       "", absl::Now()),
              IsOk());
  v1::Opportunity reassign;
  reassign.set_opportunity_id(id);
  reassign.set_owner_rep_id(bob);
  EXPECT_THAT(
      opportunities_.Update(reassign, {"owner_rep_id"}, {"SALES_REP", ann}, "", absl::Now()),
      StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("MANAGER")));
  auto moved =
      opportunities_.Update(reassign, {"owner_rep_id"}, {"SALES_MANAGER", boss}, "", absl::Now());
  ASSERT_THAT(moved, IsOk());
  EXPECT_EQ(moved->owner_rep_id(), bob);
}

// Logging an activity is a write on the opportunity and the handoff it names (it
// stops the handoff's SLA clock): the same owner and team rules as every other.
TEST_F(SalesStoreTest, ActivitiesFollowTheOwnerAndTeamRules) {
  const int64_t boss = Rep("boss", v1::REP_ROLE_MANAGER);
  const int64_t ann = Rep("ann", v1::REP_ROLE_REP, boss);
  const int64_t bob = Rep("bob", v1::REP_ROLE_REP, boss);
  const int64_t other_boss = Rep("other", v1::REP_ROLE_MANAGER);
  const int64_t carl = Rep("carl", v1::REP_ROLE_REP, other_boss);
  auto anns = DealOf(ann, "Initech");
  ASSERT_THAT(anns, IsOk());
  v1::Activity on_deal;
  on_deal.set_type(v1::ACTIVITY_TYPE_CALL);
  on_deal.set_opportunity_id(anns->opportunity_id());
  EXPECT_THAT(opportunities_.LogActivity(on_deal, {"SALES_REP", carl}, "", absl::Now()),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(opportunities_.LogActivity(on_deal, {"SALES_REP", bob}, "", absl::Now()),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(opportunities_.LogActivity(on_deal, {"SALES_MANAGER", other_boss}, "", absl::Now()),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(opportunities_.LogActivity(on_deal, {"SALES_REP", ann}, "", absl::Now()), IsOk());
  EXPECT_THAT(opportunities_.LogActivity(on_deal, {"SALES_MANAGER", boss}, "", absl::Now()),
              IsOk());

  handoff::v1::LeadHandoff lead = Lead(9, "pat@initech.example", "Initech");
  ASSERT_THAT(inbox_.Submit(lead, absl::Now()), IsOk());
  ASSERT_THAT(inbox_.Assign(lead.handoff_id(), ann, {"SALES_MANAGER", boss}, "", absl::Now()),
              IsOk());
  v1::Activity on_handoff;
  on_handoff.set_type(v1::ACTIVITY_TYPE_EMAIL);
  on_handoff.set_handoff_id(lead.handoff_id());
  EXPECT_THAT(opportunities_.LogActivity(on_handoff, {"SALES_REP", carl}, "", absl::Now()),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // The denied call stopped no clock.
  EXPECT_FALSE(inbox_.Get(lead.handoff_id(), absl::Now())->has_first_response_time());
  EXPECT_THAT(opportunities_.LogActivity(on_handoff, {"SALES_REP", ann}, "", absl::Now()), IsOk());
  EXPECT_TRUE(inbox_.Get(lead.handoff_id(), absl::Now())->has_first_response_time());
}

TEST_F(SalesStoreTest, ClosingAMarketingDealQueuesTheOutcomeOnce) {
  const int64_t rep = Rep("carol", v1::REP_ROLE_REP);
  handoff::v1::LeadHandoff lead = Lead(5, "grace@example.com", "Navy");
  ASSERT_THAT(inbox_.Submit(lead, absl::Now()), IsOk());
  auto accepted = inbox_.Accept(lead.handoff_id(), {"SALES_REP", rep}, "carol", "", absl::Now());
  ASSERT_THAT(accepted, IsOk());
  v1::CloseOpportunityRequest close;
  close.set_opportunity_id(accepted->opportunity().opportunity_id());
  close.set_outcome(handoff::v1::OUTCOME_WON);
  close.mutable_amount()->set_currency_code("USD");
  close.mutable_amount()->set_amount_minor(1'250'000);
  close.set_request_id("close-1");
  auto won = opportunities_.Close(close, {"SALES_REP", rep}, "carol", absl::Now(), "close-1");
  ASSERT_THAT(won, IsOk());
  EXPECT_EQ(won->stage(), v1::STAGE_CLOSED_WON);
  EXPECT_EQ(won->probability(), 100);
  ASSERT_THAT(opportunities_.Close(close, {"SALES_REP", rep}, "carol", absl::Now(), "close-1"),
              IsOk());  // replay
  close.set_request_id("");
  EXPECT_THAT(opportunities_.Close(close, {"SALES_REP", rep}, "carol", absl::Now()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("CLOSED_WON")));
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM outbox WHERE kind = 'DealOutcome'"), 1);
}

TEST_F(SalesStoreTest, HandoffPagesCoverEveryHandoffOnce) {
  for (int i = 1; i <= 23; ++i) {
    ASSERT_THAT(inbox_.Submit(Lead(i, absl::StrCat("l", i, "@example.com"), "Co"), absl::Now()),
                IsOk());
  }
  std::set<std::string> ids;
  std::string token;
  do {
    auto page = inbox_.List({}, 10, token, absl::Now());
    ASSERT_THAT(page, IsOk());
    for (const auto& h : page->handoffs()) EXPECT_TRUE(ids.insert(h.handoff_id()).second);
    token = page->next_page_token();
    ASSERT_THAT(
        inbox_.Submit(Lead(100 + ids.size(), absl::StrCat("n", ids.size(), "@example.com"), "Co"),
                      absl::Now()),
        IsOk());
  } while (!token.empty() && ids.size() < 23);
  EXPECT_GE(ids.size(), 23u);
}

TEST_F(SalesStoreTest, OverdueHandoffsAreListedAndFirstActivityStopsTheClock) {
  handoff::v1::LeadHandoff late = Lead(7, "late@example.com", "Late Inc");
  ASSERT_THAT(inbox_.Submit(late, absl::Now() - absl::Hours(30)), IsOk());
  ASSERT_THAT(inbox_.Submit(Lead(8, "fresh@example.com", "Fresh"), absl::Now()), IsOk());
  HandoffFilter overdue;
  overdue.overdue_only = true;
  auto page = inbox_.List(overdue, 10, "", absl::Now());
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->handoffs_size(), 1);
  EXPECT_EQ(page->handoffs(0).handoff_id(), late.handoff_id());
  EXPECT_TRUE(page->handoffs(0).overdue());
  const int64_t rep = Rep("dan", v1::REP_ROLE_REP);
  v1::Activity call;
  call.set_type(v1::ACTIVITY_TYPE_CALL);
  call.set_handoff_id(late.handoff_id());
  ASSERT_THAT(opportunities_.LogActivity(call, {"SALES_REP", rep}, "", absl::Now()), IsOk());
  auto h = inbox_.Get(late.handoff_id(), absl::Now());
  ASSERT_THAT(h, IsOk());
  EXPECT_TRUE(h->has_first_response_time());
  const int64_t first = h->first_response_time().seconds();
  ASSERT_THAT(
      opportunities_.LogActivity(call, {"SALES_REP", rep}, "", absl::Now() + absl::Hours(1)),
      IsOk());
  EXPECT_EQ(inbox_.Get(late.handoff_id(), absl::Now())->first_response_time().seconds(), first);
}

TEST_F(SalesStoreTest, TheSlaClockStartsAtReceiptAndTheFirstAnswerStopsIt) {
  const absl::Time received = absl::Now() - absl::Hours(30);  // deadline: 6 hours ago
  handoff::v1::LeadHandoff on_time = Lead(11, "ontime@example.com", "On Time");
  handoff::v1::LeadHandoff late = Lead(12, "slow@example.com", "Slow");
  ASSERT_THAT(inbox_.Submit(on_time, received), IsOk());
  ASSERT_THAT(inbox_.Submit(late, received), IsOk());
  const int64_t rep = Rep("sam", v1::REP_ROLE_REP);
  v1::Activity call;
  call.set_type(v1::ACTIVITY_TYPE_CALL);
  call.set_handoff_id(on_time.handoff_id());
  // Dated before the handoff arrived, or tomorrow: refused, and no clock moves.
  *call.mutable_occur_time() = common::ToProtoTime(received - absl::Seconds(1));
  EXPECT_THAT(opportunities_.LogActivity(call, {"SALES_REP", rep}, "", absl::Now()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("activity.occur_time: ")));
  *call.mutable_occur_time() = common::ToProtoTime(absl::Now() + absl::Hours(24));
  EXPECT_THAT(opportunities_.LogActivity(call, {"SALES_REP", rep}, "", absl::Now()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("in the future")));
  EXPECT_FALSE(inbox_.Get(on_time.handoff_id(), absl::Now())->has_first_response_time());
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM activities"), 0);

  // Answered at the deadline: met, and off the overdue list for good.
  *call.mutable_occur_time() = common::ToProtoTime(received + absl::Hours(24));
  ASSERT_THAT(opportunities_.LogActivity(call, {"SALES_REP", rep}, "", absl::Now()), IsOk());
  auto met = inbox_.Get(on_time.handoff_id(), absl::Now());
  EXPECT_FALSE(met->overdue());
  EXPECT_FALSE(met->sla_breached());
  // Answered after it: a breach, and off the overdue list too.
  call.set_handoff_id(late.handoff_id());
  call.clear_occur_time();
  ASSERT_THAT(opportunities_.LogActivity(call, {"SALES_REP", rep}, "", absl::Now()), IsOk());
  auto breached = inbox_.Get(late.handoff_id(), absl::Now());
  EXPECT_FALSE(breached->overdue());
  EXPECT_TRUE(breached->sla_breached());
  HandoffFilter overdue;
  overdue.overdue_only = true;
  EXPECT_EQ(inbox_.List(overdue, 10, "", absl::Now())->handoffs_size(), 0);

  auto report = reports_.Pipeline(0, 0, absl::Now());
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->sla().responded(), 2);
  EXPECT_EQ(report->sla().responded_within_sla(), 1);
  EXPECT_EQ(report->sla().breached(), 1);
  EXPECT_EQ(report->sla().overdue_now(), 0);
  EXPECT_GT(report->sla().median_first_response_seconds(), 0);
}

TEST_F(SalesStoreTest, FreemailPeopleGetAccountsOfTheirOwnAndCompaniesMatchLoosely) {
  const int64_t rep = Rep("fay", v1::REP_ROLE_REP);
  std::vector<int64_t> accounts;
  int64_t lead_id = 40;
  for (auto [email, company] : std::vector<std::pair<std::string, std::string>>{
           {"alan@gmail.com", ""},
           {"bea@gmail.com", ""},
           {"grace@hopper.example", "Hopper Inc"},
           {"ada@hopper.example", "  HOPPER   INC "}}) {
    handoff::v1::LeadHandoff lead = Lead(++lead_id, email, company);
    ASSERT_THAT(inbox_.Submit(lead, absl::Now()), IsOk());
    auto accepted = inbox_.Accept(lead.handoff_id(), {"SALES_REP", rep}, "fay", "", absl::Now());
    ASSERT_THAT(accepted, IsOk());
    accounts.push_back(accepted->opportunity().account_id());
  }
  EXPECT_NE(accounts[0], accounts[1]);  // two strangers at gmail.com
  EXPECT_EQ(accounts[2], accounts[3]);  // one company, spelled twice
  EXPECT_EQ(directory_.GetAccount(accounts[0])->name(), "alan@gmail.com");
  EXPECT_EQ(directory_.GetAccount(accounts[2])->name(), "Hopper Inc");
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM accounts WHERE name = 'gmail.com'"), 0);
}

TEST_F(SalesStoreTest, ErasureRemovesThePersonOnce) {
  const int64_t rep = Rep("eve", v1::REP_ROLE_REP);
  handoff::v1::LeadHandoff lead = Lead(9, "erase-me@example.com", "Secret Co");
  ASSERT_THAT(inbox_.Submit(lead, absl::Now()), IsOk());
  ASSERT_THAT(inbox_.Accept(lead.handoff_id(), {"SALES_REP", rep}, "eve", "", absl::Now()), IsOk());
  handoff::v1::LeadErasure erasure;
  erasure.set_event_id(common::NewUuid());
  erasure.set_lead_id(9);
  auto first = inbox_.Erase(erasure);
  auto second = inbox_.Erase(erasure);
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(first->handoffs_erased(), 1);
  EXPECT_TRUE(second->duplicate());
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM contacts WHERE email IS NOT NULL"), 0);
  EXPECT_EQ(inbox_.Get(lead.handoff_id(), absl::Now())->lead().contact().email(), "");
}

TEST_F(SalesStoreTest, ErasureTakesEveryFreeTextAboutThePersonAndKeepsTheFacts) {
  const int64_t rep = Rep("ian", v1::REP_ROLE_REP);
  const Caller ian{"SALES_REP", rep};
  handoff::v1::LeadHandoff lead = Lead(21, "alan@gmail.com", "");  // an account of his own
  lead.mutable_contact()->set_first_name("Alan");
  ASSERT_THAT(inbox_.Submit(lead, absl::Now()), IsOk());
  v1::Activity call;
  call.set_type(v1::ACTIVITY_TYPE_CALL);
  call.set_handoff_id(lead.handoff_id());
  call.set_notes("Alan's cell is 555-1234, lives in Leeds");
  call.set_outcome("talked to Alan");
  ASSERT_THAT(opportunities_.LogActivity(call, ian, "", absl::Now()), IsOk());
  auto accepted = inbox_.Accept(lead.handoff_id(), ian, "ian", "", absl::Now());
  ASSERT_THAT(accepted, IsOk());
  const v1::Opportunity deal = accepted->opportunity();
  auto objection = opportunities_.AddObjection(deal.opportunity_id(), "Alan Smith says too pricey",
                                               ian, "ian", "", absl::Now());
  ASSERT_THAT(objection, IsOk());
  ASSERT_THAT(opportunities_.ResolveObjection(objection->objection_id(), "Alan took the discount",
                                              ian, "", absl::Now()),
              IsOk());
  v1::Activity meeting;
  meeting.set_type(v1::ACTIVITY_TYPE_MEETING);
  meeting.set_opportunity_id(deal.opportunity_id());
  meeting.set_notes("met Alan at his home");
  ASSERT_THAT(opportunities_.LogActivity(meeting, ian, "", absl::Now()), IsOk());
  v1::Opportunity renamed = deal;
  renamed.set_name("Alan Smith's laptop deal");
  renamed.set_next_step("call Alan on 555-1234");
  ASSERT_THAT(opportunities_.Update(renamed, {"name", "next_step"}, ian, "", absl::Now()), IsOk());
  v1::CloseOpportunityRequest close;
  close.set_opportunity_id(deal.opportunity_id());
  close.set_outcome(handoff::v1::OUTCOME_LOST);
  close.set_loss_reason(handoff::v1::LOSS_REASON_PRICE);
  close.set_loss_note("Alan found it cheaper");
  ASSERT_THAT(opportunities_.Close(close, ian, "ian", absl::Now()), IsOk());
  // Someone else's deal stays as it is.
  handoff::v1::LeadHandoff other = Lead(22, "bea@initech.example", "Initech");
  ASSERT_THAT(inbox_.Submit(other, absl::Now()), IsOk());
  auto kept = inbox_.Accept(other.handoff_id(), ian, "ian", "", absl::Now());
  ASSERT_THAT(kept, IsOk());
  v1::Activity other_call = call;
  other_call.set_handoff_id(other.handoff_id());
  other_call.set_notes("Bea wants a demo");
  other_call.set_outcome("booked");
  ASSERT_THAT(opportunities_.LogActivity(other_call, ian, "", absl::Now()), IsOk());

  handoff::v1::LeadErasure erasure;
  erasure.set_event_id(common::NewUuid());
  erasure.set_lead_id(21);
  auto erased = inbox_.Erase(erasure);
  ASSERT_THAT(erased, IsOk());
  EXPECT_EQ(erased->handoffs_erased(), 1);
  EXPECT_EQ(erased->contacts_erased(), 1);
  EXPECT_EQ(erased->opportunities_erased(), 1);
  EXPECT_EQ(erased->activities_erased(), 2);
  EXPECT_EQ(erased->objections_erased(), 1);
  EXPECT_EQ(erased->accounts_renamed(), 1);
  for (const char* sql :
       {"SELECT COUNT(*) FROM activities WHERE notes LIKE '%Alan%' OR outcome LIKE '%Alan%'",
        "SELECT COUNT(*) FROM objections WHERE text LIKE '%Alan%' OR resolution LIKE '%Alan%'",
        "SELECT COUNT(*) FROM opportunities WHERE name LIKE '%Alan%' OR name LIKE '%gmail%' OR "
        "next_step LIKE '%Alan%' OR loss_note LIKE '%Alan%'",
        "SELECT COUNT(*) FROM accounts WHERE name LIKE '%alan%'",
        "SELECT COUNT(*) FROM contacts WHERE first_name = 'Alan' OR email LIKE 'alan%'"}) {
    EXPECT_EQ(db_.QueryInt(sql), 0) << sql;
  }
  // The facts reports need stay.
  auto after = opportunities_.Get(deal.opportunity_id());
  ASSERT_THAT(after, IsOk());
  EXPECT_EQ(after->stage(), v1::STAGE_CLOSED_LOST);
  EXPECT_EQ(after->loss_reason(), handoff::v1::LOSS_REASON_PRICE);
  EXPECT_TRUE(after->has_close_time());
  EXPECT_EQ(after->name(), absl::StrCat("erased person (account ", deal.account_id(),
                                        ") (opportunity ", deal.opportunity_id(), ")"));
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM activities"), 3);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM activities WHERE notes = 'Bea wants a demo'"), 1);
  EXPECT_EQ(opportunities_.Get(kept->opportunity().opportunity_id())->name(),
            kept->opportunity().name());
}

TEST_F(SalesStoreTest, AnOptOutWithdrawsWhatIsPendingAndMarksWhatWasAccepted) {
  const int64_t rep = Rep("jan", v1::REP_ROLE_REP);
  const Caller jan{"SALES_REP", rep};
  handoff::v1::LeadHandoff accepted = Lead(31, "kay@hooli.example", "Hooli");
  ASSERT_THAT(inbox_.Submit(accepted, absl::Now()), IsOk());
  auto opened = inbox_.Accept(accepted.handoff_id(), jan, "jan", "", absl::Now());
  ASSERT_THAT(opened, IsOk());
  handoff::v1::LeadHandoff pending = Lead(32, "lou@hooli.example", "Hooli");
  ASSERT_THAT(inbox_.Submit(pending, absl::Now() - absl::Hours(30)), IsOk());

  for (int64_t lead_id : {31, 32}) {
    handoff::v1::ConsentChange change;
    change.set_event_id(common::NewUuid());
    change.set_lead_id(lead_id);
    change.set_consent(handoff::v1::CONSENT_STATUS_OPTED_OUT);
    change.set_source("unsubscribe");
    auto first = inbox_.UpdateConsent(change, absl::Now());
    ASSERT_THAT(first, IsOk());
    EXPECT_EQ(first->handoffs_withdrawn(), lead_id == 32 ? 1 : 0);
    EXPECT_EQ(first->contacts_updated(), lead_id == 31 ? 1 : 0);
    auto again = inbox_.UpdateConsent(change, absl::Now());
    ASSERT_THAT(again, IsOk());
    EXPECT_TRUE(again->duplicate());
  }
  auto withdrawn = inbox_.Get(pending.handoff_id(), absl::Now());
  ASSERT_THAT(withdrawn, IsOk());
  EXPECT_EQ(withdrawn->state(), v1::HANDOFF_STATE_WITHDRAWN);
  EXPECT_THAT(withdrawn->withdrawal_reason(), HasSubstr("opted out (unsubscribe)"));
  EXPECT_EQ(withdrawn->lead().consent(), handoff::v1::CONSENT_STATUS_OPTED_OUT);
  EXPECT_FALSE(withdrawn->overdue());  // nothing left to answer
  EXPECT_THAT(inbox_.Accept(pending.handoff_id(), jan, "jan", "", absl::Now()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("WITHDRAWN")));
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM opportunities WHERE lead_id = 32"), 0);

  EXPECT_EQ(inbox_.Get(accepted.handoff_id(), absl::Now())->lead().consent(),
            handoff::v1::CONSENT_STATUS_OPTED_OUT);
  EXPECT_EQ(inbox_.Get(accepted.handoff_id(), absl::Now())->state(), v1::HANDOFF_STATE_ACCEPTED);
  EXPECT_EQ(directory_.GetContact(opened->opportunity().contact_id())->consent(),
            handoff::v1::CONSENT_STATUS_OPTED_OUT);
  EXPECT_EQ(opportunities_.Get(opened->opportunity().opportunity_id())->contact_consent(),
            handoff::v1::CONSENT_STATUS_OPTED_OUT);
}

// Sales' funnel figures: counts, money per currency and the won deals' median
// cycle, for deals closed in range (and opened in range for the count).
TEST_F(SalesStoreTest, FunnelStatsCountsSumsAndMediansDealsInRange) {
  const absl::Time t0 = absl::FromUnixSeconds(1'773'100'800);
  // (stage, source, currency, amount, opened days before t0, closed days after t0, campaign)
  struct Deal {
    int stage;
    int source;
    const char* currency;
    int64_t amount;
    int opened;
    int closed;
    int campaign;
  };
  const Deal deals[] = {
      {6, 1, "USD", 1000, 10, 1, 7}, {6, 1, "USD", 2000, 20, 2, 7}, {6, 2, "EUR", 500, 40, 3, 0},
      {7, 1, "USD", 9999, 5, 1, 7},  {3, 1, "USD", 300, 1, -1, 7},  {2, 2, "USD", 700, 1, -1, 0},
      {6, 1, "USD", 4000, 1, 40, 7},  // closed after the range
  };
  for (const Deal& d : deals) {
    const absl::Time opened = t0 - absl::Hours(24 * d.opened);
    db_.Execute(absl::StrCat(
        "INSERT INTO opportunities (name, account_id, owner_rep_id, source, stage, currency, "
        "amount_minor, ",
        "closed_at, created_at, campaign_id) VALUES ('d', 1, 1, ", d.source, ", ", d.stage, ", '",
        d.currency, "', ", d.amount, ", ",
        d.closed < 0 ? "NULL"
                     : absl::StrCat("FROM_UNIXTIME(",
                                    absl::ToUnixSeconds(t0 + absl::Hours(24 * d.closed)), ")"),
        ", FROM_UNIXTIME(", absl::ToUnixSeconds(opened), "), ", d.campaign, ")"));
  }
  auto stats =
      reports_.FunnelStats(t0 - absl::Hours(24 * 30), t0 + absl::Hours(24 * 30), 0, std::nullopt);
  ASSERT_THAT(stats, IsOk());
  EXPECT_EQ(stats->opportunities(), 6);  // all but the one opened 40 days before
  EXPECT_EQ(stats->won(), 3);
  // Of the six opened in range, two were won in it (the EUR deal opened before).
  EXPECT_EQ(stats->opened_then_won(), 2);
  EXPECT_EQ(stats->lost(), 1);
  ASSERT_EQ(stats->won_revenue_size(), 2);
  for (const auto& m : stats->won_revenue()) {
    EXPECT_EQ(m.amount_minor(), m.currency_code() == "USD" ? 3000 : 500) << m.currency_code();
  }
  // Cycles of the won deals in range: 11, 22 and 43 days.
  EXPECT_DOUBLE_EQ(stats->median_open_to_won_seconds(), 22 * 86400.0);
  ASSERT_EQ(stats->marketing_sourced_pipeline_size(), 1);
  EXPECT_EQ(stats->marketing_sourced_pipeline(0).amount_minor(), 300);
  ASSERT_EQ(stats->sales_sourced_pipeline_size(), 1);
  EXPECT_EQ(stats->sales_sourced_pipeline(0).amount_minor(), 700);

  auto one_campaign =
      reports_.FunnelStats(t0 - absl::Hours(24 * 30), t0 + absl::Hours(24 * 30), 7, std::nullopt);
  ASSERT_THAT(one_campaign, IsOk());
  EXPECT_EQ(one_campaign->won(), 2);
  EXPECT_DOUBLE_EQ(one_campaign->median_open_to_won_seconds(), 16.5 * 86400.0);  // 11 and 22 days

  auto none =
      reports_.FunnelStats(t0 + absl::Hours(24 * 100), t0 + absl::Hours(24 * 101), 0, std::nullopt);
  ASSERT_THAT(none, IsOk());
  EXPECT_EQ(none->won(), 0);
  EXPECT_DOUBLE_EQ(none->median_open_to_won_seconds(), 0);
}

}  // namespace
}  // namespace funnel::sales
