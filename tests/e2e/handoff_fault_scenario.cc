#include "tests/e2e/handoff_fault_scenario.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "funnel/marketing/v1/marketing_service.grpc.pb.h"
#include "funnel/sales/v1/sales_service.grpc.pb.h"

namespace funnel::testing {
namespace {

// Calls `call` until it returns OK (the system is crashing on purpose); the caller
// makes the call idempotent with a request_id. Gives up after `timeout`.
bool Retry(const std::function<grpc::Status()>& call, absl::Duration timeout = absl::Seconds(90)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    grpc::Status s = call();
    if (s.ok()) return true;
    absl::SleepFor(absl::Milliseconds(25));
  }
  return false;
}

void SetDeadline(grpc::ClientContext* ctx) {
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
}

bool WaitUntil(const std::function<bool()>& check, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (check()) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return false;
}

}  // namespace

void RunHandoffFaultScenario(FunnelStack& stack, int leads, const Disturbance& disturbance) {
  auto marketing =
      marketing::v1::MarketingService::NewStub(stack.GatewayChannel(stack.Key("MARKETING")));
  auto sales = sales::v1::SalesService::NewStub(stack.GatewayChannel());
  std::mt19937 rng(12345);

  // One touch makes a lead hot, so each capture is one qualification.
  ASSERT_TRUE(Retry([&] {
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    marketing::v1::UpdateScoringPolicyRequest r;
    r.mutable_policy()->set_warm_threshold(10);
    r.mutable_policy()->set_hot_threshold(30);
    r.mutable_update_mask()->add_paths("warm_threshold");
    r.mutable_update_mask()->add_paths("hot_threshold");
    marketing::v1::ScoringPolicy out;
    return marketing->UpdateScoringPolicy(&ctx, r, &out);
  }));
  sales::v1::Rep rep;
  ASSERT_TRUE(Retry([&] {
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    sales::v1::CreateRepRequest r;
    r.mutable_rep()->set_name("Fay");
    r.mutable_rep()->set_email("fay@corp.example");
    r.mutable_rep()->set_role(sales::v1::REP_ROLE_REP);
    r.set_request_id("rep-fay");
    return sales->CreateRep(&ctx, r, &rep);
  }));

  marketing::v1::Campaign campaign;
  ASSERT_TRUE(Retry([&] {
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    marketing::v1::CreateCampaignRequest r;
    r.mutable_campaign()->set_name("Fault campaign");
    r.mutable_campaign()->set_channel(marketing::v1::CHANNEL_ONLINE_AD);
    r.set_request_id("campaign-fault");
    return marketing->CreateCampaign(&ctx, r, &campaign);
  }));

  auto fay = sales::v1::SalesService::NewStub(
      stack.GatewayChannel(stack.AddKey("SALES_REP", "fay", rep.rep_id())));

  // Phase 1: qualify `leads` leads under crashes.
  std::atomic<int> next{0}, done{0};
  std::atomic<bool> failed{false};
  auto driver = [&] {
    for (int i = next++; i < leads; i = next++) {
      const bool ok = Retry([&] {
        grpc::ClientContext ctx;
        SetDeadline(&ctx);
        marketing::v1::CaptureLeadRequest r;
        r.mutable_contact()->set_email(absl::StrCat("fault", i, "@example.com"));
        r.mutable_contact()->set_company(absl::StrCat("Company ", i % 37));
        r.set_campaign_id(campaign.campaign_id());
        r.set_touchpoint_type(handoff::v1::TOUCHPOINT_TYPE_DEMO_REQUEST);
        r.set_request_id(absl::StrCat("capture-", i));
        marketing::v1::CaptureLeadResponse out;
        return marketing->CaptureLead(&ctx, r, &out);
      });
      if (!ok) failed = true;
      ++done;
    }
  };
  std::vector<std::thread> drivers;
  for (int t = 0; t < 8; ++t) drivers.emplace_back(driver);
  std::thread disturber;
  if (disturbance) {
    disturber = std::thread(
        [&] { disturbance([&] { return failed ? 1.0 : static_cast<double>(done) / leads; }); });
  }
  auto at = [&](double fraction) {
    const int target = static_cast<int>(leads * fraction);
    while (done < target && !failed) absl::SleepFor(absl::Milliseconds(5));
  };
  std::uniform_int_distribution<int> pause_ms(50, 400);
  for (double f : {0.1, 0.3, 0.5}) {
    at(f + std::uniform_real_distribution<double>(0, 0.08)(rng));
    stack.Kill(FunnelStack::kSales);
    absl::SleepFor(absl::Milliseconds(pause_ms(rng)));
    stack.Start(FunnelStack::kSales);
  }
  at(0.6);
  stack.Kill(FunnelStack::kGateway);
  absl::SleepFor(absl::Milliseconds(pause_ms(rng)));
  stack.Start(FunnelStack::kGateway);
  // Let a backlog build while sales is down, then kill marketing while its relay is
  // flushing it.
  at(0.7);
  stack.Kill(FunnelStack::kSales);
  at(0.8);
  stack.Start(FunnelStack::kSales);
  // EXPECT, not ASSERT: returning here would leave the drivers running (and end the
  // test in std::terminate, without the services' logs). The wait outlasts the
  // schema-migration lease (MigrationOptions::lease, 120 s): on the cluster, a sales
  // process started while its node rejoins can be killed before its start-up
  // migration pass let go of the lease, and its successor then waits it out.
  EXPECT_TRUE(testing::WaitForHealth(stack.sales_port(), "", testing::HealthCheckResponse::SERVING,
                                     absl::Seconds(150)));
  absl::SleepFor(absl::Milliseconds(std::uniform_int_distribution<int>(100, 400)(rng)));
  stack.Kill(FunnelStack::kMarketing);
  absl::SleepFor(absl::Milliseconds(pause_ms(rng)));
  stack.Start(FunnelStack::kMarketing);
  for (auto& t : drivers) t.join();
  if (disturber.joinable()) disturber.join();
  ASSERT_FALSE(failed) << "a capture never succeeded";

  // Every qualified lead reaches sales.
  ASSERT_TRUE(
      WaitUntil([&] { return stack.sales_db().QueryInt("SELECT COUNT(*) FROM handoffs") >= leads; },
                absl::Seconds(90)));

  // Phase 2: decide every handoff while marketing crashes once more.
  std::vector<std::string> handoffs =
      stack.sales_db().QueryStrings("SELECT handoff_id FROM handoffs ORDER BY seq");
  ASSERT_EQ(static_cast<int>(handoffs.size()), leads);
  std::atomic<int> decided{0};
  std::atomic<size_t> cursor{0};
  auto as_rep = [&](grpc::ClientContext* ctx) { SetDeadline(ctx); };
  auto decider = [&] {
    for (size_t i = cursor++; i < handoffs.size(); i = cursor++) {
      const std::string& id = handoffs[i];
      bool ok = true;
      if (i % 3 == 0) {
        ok = Retry([&] {
          grpc::ClientContext ctx;
          as_rep(&ctx);
          sales::v1::RejectHandoffRequest r;
          r.set_handoff_id(id);
          r.set_reason(handoff::v1::REJECTION_REASON_NOT_READY);
          r.set_request_id("reject-" + id);
          sales::v1::Handoff out;
          return fay->RejectHandoff(&ctx, r, &out);
        });
      } else {
        sales::v1::AcceptHandoffResponse accepted;
        ok = Retry([&] {
          grpc::ClientContext ctx;
          as_rep(&ctx);
          sales::v1::AcceptHandoffRequest r;
          r.set_handoff_id(id);
          return fay->AcceptHandoff(&ctx, r, &accepted);  // accepting twice is idempotent
        });
        if (ok && i % 3 == 1) {
          ok = Retry([&] {
            grpc::ClientContext ctx;
            as_rep(&ctx);
            sales::v1::CloseOpportunityRequest c;
            c.set_opportunity_id(accepted.opportunity().opportunity_id());
            c.set_outcome(handoff::v1::OUTCOME_WON);
            c.mutable_amount()->set_currency_code("USD");
            c.mutable_amount()->set_amount_minor(100'000 + static_cast<int64_t>(i));
            c.set_request_id("close-" + id);
            sales::v1::Opportunity out;
            return fay->CloseOpportunity(&ctx, c, &out);
          });
        }
      }
      if (!ok) failed = true;
      ++decided;
    }
  };
  std::vector<std::thread> deciders;
  for (int t = 0; t < 8; ++t) deciders.emplace_back(decider);
  while (decided < leads / 2 && !failed) absl::SleepFor(absl::Milliseconds(5));
  stack.Kill(FunnelStack::kMarketing);
  absl::SleepFor(absl::Milliseconds(pause_ms(rng)));
  stack.Start(FunnelStack::kMarketing);
  for (auto& t : deciders) t.join();
  ASSERT_FALSE(failed) << "a decision never succeeded";

  // Phase 3: corrected deals, consent changes and erasures under crashes.
  const std::vector<std::string> lead_ids =
      stack.sales_db().QueryStrings("SELECT lead_id FROM handoffs ORDER BY seq");
  const std::vector<std::string> opportunity_ids =
      stack.sales_db().QueryStrings("SELECT opportunity_id FROM handoffs ORDER BY seq");
  int corrected_lost = 0, reclosed = 0, unsubscribed = 0, erased = 0;
  std::vector<std::function<bool()>> later;
  for (size_t i = 0; i < handoffs.size(); ++i) {
    const std::string& id = handoffs[i];
    const int64_t opportunity = std::stoll(opportunity_ids[i]);
    const int64_t lead_id = std::stoll(lead_ids[i]);
    auto reopen = [&, id, opportunity] {
      return Retry([&] {
        grpc::ClientContext ctx;
        SetDeadline(&ctx);
        sales::v1::MoveOpportunityStageRequest r;
        r.set_opportunity_id(opportunity);
        r.set_stage(sales::v1::STAGE_NEGOTIATION);
        r.set_request_id("reopen-" + id);
        sales::v1::Opportunity out;
        return sales->MoveOpportunityStage(&ctx, r, &out);
      });
    };
    auto close = [&, id, opportunity, i](bool won) {
      return Retry([&] {
        grpc::ClientContext ctx;
        SetDeadline(&ctx);
        sales::v1::CloseOpportunityRequest c;
        c.set_opportunity_id(opportunity);
        c.set_outcome(won ? handoff::v1::OUTCOME_WON : handoff::v1::OUTCOME_LOST);
        if (won) {
          c.mutable_amount()->set_currency_code("USD");
          c.mutable_amount()->set_amount_minor(200'000 + static_cast<int64_t>(i));
        } else {
          c.set_loss_reason(handoff::v1::LOSS_REASON_COMPETITOR);
        }
        c.set_request_id("reclose-" + id);
        sales::v1::Opportunity out;
        return sales->CloseOpportunity(&ctx, c, &out);
      });
    };
    if (i % 3 == 1 && i % 4 == 1) {
      ++corrected_lost;
      later.push_back([=] { return reopen() && close(false); });
    } else if (i % 3 == 1 && i % 4 == 3) {
      ++reclosed;
      later.push_back([=] { return reopen() && close(true); });
    } else if (i % 3 == 2 && i % 5 == 0) {
      ++unsubscribed;
      const std::string email = stack.marketing_db().QueryStrings(
          absl::StrCat("SELECT email FROM leads WHERE lead_id = ", lead_id))[0];
      later.push_back([&, email, id] {
        return Retry([&] {
          grpc::ClientContext ctx;
          SetDeadline(&ctx);
          marketing::v1::UnsubscribeRequest r;
          r.set_email(email);
          r.set_request_id("unsubscribe-" + id);
          marketing::v1::UnsubscribeResponse out;
          return marketing->Unsubscribe(&ctx, r, &out);
        });
      });
    } else if (i % 3 == 2 && i % 7 == 0) {
      ++erased;
      later.push_back([&, lead_id, id] {
        return Retry([&] {
          grpc::ClientContext ctx;
          SetDeadline(&ctx);
          marketing::v1::EraseLeadRequest r;
          r.set_lead_id(lead_id);
          r.set_request_id("erase-" + id);
          marketing::v1::EraseLeadResponse out;
          return marketing->EraseLead(&ctx, r, &out);
        });
      });
    }
  }
  std::atomic<size_t> step{0};
  std::atomic<int> steps_done{0};
  auto worker = [&] {
    for (size_t i = step++; i < later.size(); i = step++) {
      if (!later[i]()) failed = true;
      ++steps_done;
    }
  };
  std::vector<std::thread> workers;
  for (int t = 0; t < 8; ++t) workers.emplace_back(worker);
  for (auto [fraction, victim] :
       {std::pair{0.3, FunnelStack::kSales}, std::pair{0.6, FunnelStack::kMarketing}}) {
    const int target = static_cast<int>(later.size() * fraction);
    while (steps_done < target && !failed) absl::SleepFor(absl::Milliseconds(5));
    stack.Kill(victim);
    absl::SleepFor(absl::Milliseconds(pause_ms(rng)));
    stack.Start(victim);
  }
  for (auto& t : workers) t.join();
  ASSERT_FALSE(failed) << "a later event's call never succeeded";

  // Recovery: both outboxes drain.
  auto undelivered = [&](testing::TestDatabase& db) {
    return db.QueryInt("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL");
  };
  ASSERT_TRUE(WaitUntil(
      [&] { return undelivered(stack.marketing_db()) == 0 && undelivered(stack.sales_db()) == 0; },
      absl::Seconds(120)))
      << "marketing undelivered " << undelivered(stack.marketing_db()) << ", sales undelivered "
      << undelivered(stack.sales_db());

  testing::TestDatabase& mk = stack.marketing_db();
  testing::TestDatabase& sa = stack.sales_db();
  const int rejected = (leads + 2) / 3;
  const int won = leads / 3 + (leads % 3 == 2 ? 1 : 0);
  const int accepted = leads - rejected;

  // Every qualified lead is in sales exactly once.
  EXPECT_EQ(mk.QueryInt("SELECT COUNT(*) FROM leads"), leads);
  EXPECT_EQ(mk.QueryInt("SELECT COUNT(*) FROM handoffs"), leads);
  const std::vector<std::string> mk_ids =
      mk.QueryStrings("SELECT handoff_id FROM handoffs ORDER BY handoff_id");
  const std::vector<std::string> sa_ids =
      sa.QueryStrings("SELECT handoff_id FROM handoffs ORDER BY handoff_id");
  EXPECT_EQ(mk_ids, sa_ids);
  EXPECT_EQ(sa.QueryInt("SELECT COUNT(DISTINCT lead_id) FROM handoffs"), leads);
  EXPECT_EQ(mk.QueryInt("SELECT COUNT(*) FROM handoffs WHERE delivered_at IS NULL"), 0);

  // Every decision, outcome revision, consent change and erasure applied exactly
  // once on the other side.
  auto sent_and_applied = [&](testing::TestDatabase& from, testing::TestDatabase& to,
                              const char* kind, int expected) {
    EXPECT_EQ(from.QueryInt(absl::StrCat("SELECT COUNT(*) FROM outbox WHERE kind = '", kind, "'")),
              expected)
        << kind;
    EXPECT_EQ(
        to.QueryInt(absl::StrCat("SELECT COUNT(*) FROM inbox_events WHERE kind = '", kind, "'")),
        expected)
        << kind;
  };
  sent_and_applied(sa, mk, "HandoffDecision", leads);
  sent_and_applied(sa, mk, "DealOutcome", won + 2 * (corrected_lost + reclosed));
  sent_and_applied(mk, sa, "ConsentChange", unsubscribed);
  sent_and_applied(mk, sa, "LeadErasure", erased);
  const int won_now = won - corrected_lost;
  EXPECT_EQ(mk.QueryInt("SELECT COUNT(*) FROM handoffs WHERE decision = 1"), accepted);
  EXPECT_EQ(mk.QueryInt("SELECT COUNT(*) FROM handoffs WHERE decision = 2"), rejected);
  EXPECT_EQ(sa.QueryInt("SELECT COUNT(*) FROM handoffs WHERE state = 2"), accepted);
  EXPECT_EQ(sa.QueryInt("SELECT COUNT(*) FROM handoffs WHERE state = 3"), rejected);
  EXPECT_EQ(sa.QueryInt("SELECT COUNT(*) FROM opportunities"), accepted);
  EXPECT_EQ(sa.QueryInt("SELECT COUNT(*) FROM opportunities WHERE stage = 6"), won_now);
  EXPECT_EQ(mk.QueryInt("SELECT COUNT(*) FROM leads WHERE stage = 7"), won_now);   // CUSTOMER
  EXPECT_EQ(mk.QueryInt("SELECT COUNT(*) FROM leads WHERE stage = 6"), rejected);  // RECYCLED
  EXPECT_EQ(mk.QueryInt("SELECT COUNT(*) FROM leads WHERE stage = 8"), erased);    // erased
  EXPECT_EQ(mk.QueryInt("SELECT COUNT(*) FROM leads WHERE stage = 5"),
            accepted - won_now - erased);  // SALES_ACCEPTED
  // Marketing's revenue is sales' won revenue, each deal counted once at its latest.
  EXPECT_EQ(mk.QueryInt("SELECT COUNT(DISTINCT handoff_id) FROM attributions"), won_now);
  EXPECT_EQ(
      mk.QueryInt("SELECT COALESCE(SUM(amount_minor), 0) FROM attributions WHERE model = 3"),
      sa.QueryInt("SELECT COALESCE(SUM(amount_minor), 0) FROM opportunities WHERE stage = 6"));
  // Sales carries every opt-out and holds nothing of the erased.
  EXPECT_EQ(sa.QueryInt("SELECT COUNT(*) FROM contacts WHERE consent = 3"), unsubscribed);
  EXPECT_EQ(sa.QueryInt("SELECT COUNT(*) FROM contacts WHERE email IS NULL"), erased);
  EXPECT_TRUE(stack.StopAll());
}

}  // namespace funnel::testing
