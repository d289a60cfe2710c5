// Two sales_service replicas behind the gateway (one --sales_address listing both):
// calls are balanced round-robin, and when one replica is killed under load no call
// fails beyond the ones in flight at the kill.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/time/clock.h"
#include "funnel/sales/v1/sales_service.grpc.pb.h"
#include "tests/testing/stack.h"

namespace funnel {
namespace {

using ::funnel::testing::FunnelStack;

TEST(ReplicasTest, KillingOneReplicaUnderLoadFailsOnlyInFlightCalls) {
  FunnelStack stack("replicas", testing::TestServerOptions(), /*sales_replicas=*/2);
  ASSERT_TRUE(testing::WaitForHealth(stack.gateway_port(), "funnel.sales.v1.SalesService",
                                     testing::HealthCheckResponse::SERVING));
  constexpr int kCallers = 8;
  auto sales = sales::v1::SalesService::NewStub(stack.GatewayChannel(stack.Key("SALES_MANAGER")));
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&] {
      while (!stop) {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        sales::v1::ListRepsResponse reps;
        grpc::Status s = sales->ListReps(&ctx, sales::v1::ListRepsRequest(), &reps);
        (s.ok() ? ok : failed)++;
      }
    });
  }
  absl::SleepFor(absl::Seconds(1));
  const int before_kill = ok.load();
  stack.Kill(FunnelStack::kSales);
  absl::SleepFor(absl::Seconds(2));
  stop = true;
  for (auto& t : callers) t.join();
  EXPECT_GT(before_kill, 50);
  EXPECT_GT(ok.load() - before_kill, 50) << "the surviving replica kept serving";
  EXPECT_LE(failed.load(), kCallers) << "only calls in flight at the kill may fail";
  // Both replicas served before the kill: round-robin, not pick-first.
  for (FunnelStack::Process replica : {FunnelStack::kSales, FunnelStack::kSales2}) {
    EXPECT_THAT(stack.process(replica).Log(), ::testing::HasSubstr("SalesService/ListReps"));
  }
  std::printf("replicas: %d ok before the kill, %d after, %d failed\n", before_kill,
              ok.load() - before_kill, failed.load());
}

}  // namespace
}  // namespace funnel
