// The whole stack on the three-node Galera cluster `./dev test` starts: each
// service connects to every node (--db_hosts), starting at its own, and keeps
// working when that node crashes. Node 0 is the tests' own (they read through it
// and never crash it); marketing starts at node 1, sales at node 2.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "funnel/marketing/v1/marketing_service.grpc.pb.h"
#include "tests/e2e/galera_fixture.h"
#include "tests/e2e/handoff_fault_scenario.h"
#include "tests/testing/stack.h"

namespace funnel {
namespace {

using testing::FunnelStack;

using GaleraStackTest = testing::GaleraFixture;

grpc::Status Capture(marketing::v1::MarketingService::Stub& stub, const std::string& email,
                     const std::string& request_id, marketing::v1::CaptureLeadResponse* out) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  marketing::v1::CaptureLeadRequest r;
  r.mutable_contact()->set_email(email);
  r.set_touchpoint_type(handoff::v1::TOUCHPOINT_TYPE_WEB_VISIT);
  r.set_request_id(request_id);
  return stub.CaptureLead(&ctx, r, out);
}

// Captures until the gateway has sent some to each of the two marketing replicas
// (it balances calls over both once it has connected to both).
void UntilBothReplicasCapture(FunnelStack& stack, marketing::v1::MarketingService::Stub& stub) {
  auto served_captures = [&](FunnelStack::Process p) {
    return absl::StrContains(stack.process(p).Log(), "MarketingService/CaptureLead");
  };
  for (int i = 0; i < 100 && !(served_captures(FunnelStack::kMarketing) &&
                               served_captures(FunnelStack::kMarketing2));
       ++i) {
    marketing::v1::CaptureLeadResponse out;
    ASSERT_TRUE(Capture(stub, "warm-up@example.com", absl::StrCat("warm-up-", i), &out).ok());
  }
}

// Two marketing replicas, each on its own node, capture one email at the same
// moment: on one server the unique key makes the second insert wait for the
// first; across nodes both inserts run, and certification aborts one at commit
// (deadlock 1213), whose rerun finds the lead the other made.
TEST_F(GaleraStackTest, TwoReplicasOnTwoNodesCapturingOneEmailMakeOneLead) {
  FunnelStack stack("galera_one",
                    {.marketing_replicas = 2, .sales_replicas = 2, .cluster = nodes_});
  auto marketing =
      marketing::v1::MarketingService::NewStub(stack.GatewayChannel(stack.Key("MARKETING")));
  ASSERT_NO_FATAL_FAILURE(UntilBothReplicasCapture(stack, *marketing));
  constexpr int kEmails = 12, kCapturesEach = 6;
  std::vector<std::vector<int64_t>> lead_ids(kEmails, std::vector<int64_t>(kCapturesEach, 0));
  std::vector<std::thread> threads;
  for (int e = 0; e < kEmails; ++e) {
    for (int c = 0; c < kCapturesEach; ++c) {
      threads.emplace_back([&, e, c] {
        marketing::v1::CaptureLeadResponse out;
        const grpc::Status status = Capture(*marketing, absl::StrCat("same", e, "@example.com"),
                                            absl::StrCat("same-", e, "-", c), &out);
        EXPECT_TRUE(status.ok()) << status.error_message();
        lead_ids[e][c] = out.lead().lead_id();
      });
    }
  }
  for (auto& t : threads) t.join();
  for (int e = 0; e < kEmails; ++e) {
    EXPECT_THAT(lead_ids[e], ::testing::Each(lead_ids[e][0])) << "email " << e;
  }
  for (size_t n = 0; n < nodes_.size(); ++n) {
    EXPECT_EQ(
        QueryOnNode(stack.marketing_db(), n, "SELECT COUNT(*) FROM leads WHERE email LIKE 'same%'"),
        kEmails)
        << "node " << n;
    EXPECT_EQ(QueryOnNode(stack.marketing_db(), n,
                          "SELECT COUNT(*) FROM touchpoints t JOIN leads l USING (lead_id) "
                          "WHERE l.email LIKE 'same%'"),
              kEmails * kCapturesEach)
        << "node " << n;
  }
}

// Many different emails captured through two replicas on two nodes at once: each
// batch of captures commits on its own node, and every one must certify against
// the other node's concurrent batches. Writes to one shared row per batch (the
// day's capture count, before it was sharded) made one of two concurrent batches
// fail certification, and under this load some captures ran out of attempts
// and were refused ABORTED.
TEST_F(GaleraStackTest, CapturesThroughTwoNodesAtOnceAreAllAccepted) {
  FunnelStack stack("galera_many", {.marketing_replicas = 2, .cluster = nodes_});
  auto marketing =
      marketing::v1::MarketingService::NewStub(stack.GatewayChannel(stack.Key("MARKETING")));
  ASSERT_NO_FATAL_FAILURE(UntilBothReplicasCapture(stack, *marketing));
  constexpr int kThreads = 32, kCapturesEach = 250;
  std::atomic<int> refused{0};
  std::mutex mu;
  std::set<std::string> refusals;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int c = 0; c < kCapturesEach; ++c) {
        marketing::v1::CaptureLeadResponse out;
        const grpc::Status status =
            Capture(*marketing, absl::StrCat("many-", t, "-", c, "@example.com"),
                    absl::StrCat("many-", t, "-", c), &out);
        if (!status.ok()) {
          ++refused;
          std::lock_guard<std::mutex> lock(mu);
          refusals.insert(absl::StrCat(status.error_code(), ": ", status.error_message()));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(refused.load(), 0) << absl::StrJoin(refusals, "; ");
  for (size_t n = 0; n < nodes_.size(); ++n) {
    EXPECT_EQ(QueryOnNode(stack.marketing_db(), n,
                          "SELECT COUNT(*) FROM leads WHERE email LIKE 'many-%'"),
              kThreads * kCapturesEach - refused.load())
        << "node " << n;
  }
}

// Marketing's node is SIGKILLed while captures stream in: calls in flight may
// fail (UNAVAILABLE; never a wrong answer), the service moves to another node and
// goes on, and every capture it acknowledged is on every node once the crashed
// node has rejoined.
TEST_F(GaleraStackTest, EveryAcknowledgedCaptureDuringANodeCrashIsOnEveryNode) {
  FunnelStack stack("galera_crash", {.cluster = nodes_});
  auto marketing =
      marketing::v1::MarketingService::NewStub(stack.GatewayChannel(stack.Key("MARKETING")));
  std::atomic<bool> stop{false}, crashed{false};
  std::atomic<int> acked_after_crash{0};
  std::mutex mu;
  std::vector<std::string> acked;
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        const std::string email = absl::StrCat("crash-", t, "-", i, "@example.com");
        marketing::v1::CaptureLeadResponse out;
        const grpc::Status status =
            Capture(*marketing, email, absl::StrCat("crash-", t, "-", i), &out);
        if (status.ok()) {
          if (crashed) ++acked_after_crash;
          std::lock_guard<std::mutex> lock(mu);
          acked.push_back(email);
        } else {
          EXPECT_THAT(status.error_code(),
                      ::testing::AnyOf(grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::ABORTED,
                                       grpc::StatusCode::DEADLINE_EXCEEDED))
              << status.error_message();
        }
      }
    });
  }
  absl::SleepFor(absl::Seconds(2));
  testing::KillClusterNode(1);
  crashed = true;
  absl::SleepFor(absl::Seconds(3));
  testing::RejoinClusterNode(1);  // meanwhile the captures go on
  absl::SleepFor(absl::Seconds(1));
  stop = true;
  for (auto& t : writers) t.join();
  EXPECT_GT(acked_after_crash.load(), 0) << "no capture succeeded after the node crashed";
  ASSERT_FALSE(acked.empty());
  std::vector<std::string> quoted;
  for (const std::string& email : acked) quoted.push_back(absl::StrCat("'", email, "'"));
  const std::string present =
      absl::StrCat("SELECT COUNT(*) FROM leads WHERE email IN (", absl::StrJoin(quoted, ","), ")");
  for (size_t n = 0; n < nodes_.size(); ++n) {
    EXPECT_EQ(QueryOnNode(stack.marketing_db(), n, present), static_cast<int64_t>(acked.size()))
        << "node " << n;
  }
  EXPECT_TRUE(stack.StopAll());
}

// The handoff fault scenario (handoff_fault_scenario.h) on the cluster, with sales'
// node SIGKILLed during phase 1 and rejoining (IST) while it goes on.
TEST_F(GaleraStackTest, NoHandoffLostOrDuplicatedWhenADatabaseNodeCrashes) {
  constexpr int kLeads = 300;
  FunnelStack stack("galera_fault", {.cluster = nodes_});
  testing::RunHandoffFaultScenario(stack, kLeads, [](const std::function<double()>& captured) {
    while (captured() < 0.25) absl::SleepFor(absl::Milliseconds(10));
    testing::KillClusterNode(2);
    while (captured() < 0.5) absl::SleepFor(absl::Milliseconds(10));
    testing::RejoinClusterNode(2);
  });
  if (HasFatalFailure()) return;
  // Every node holds the same outcome.
  for (size_t n = 0; n < nodes_.size(); ++n) {
    EXPECT_EQ(QueryOnNode(stack.sales_db(), n, "SELECT COUNT(DISTINCT lead_id) FROM handoffs"),
              kLeads)
        << "node " << n;
    EXPECT_EQ(QueryOnNode(stack.sales_db(), n, "SELECT COUNT(*) FROM handoffs"), kLeads)
        << "node " << n;
    EXPECT_EQ(QueryOnNode(stack.marketing_db(), n, "SELECT COUNT(*) FROM handoffs"), kLeads)
        << "node " << n;
    EXPECT_EQ(QueryOnNode(stack.marketing_db(), n,
                          "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL"),
              0)
        << "node " << n;
  }
}

}  // namespace
}  // namespace funnel
