// A service reports NOT_SERVING while its database is down and SERVING again by
// itself once the database is back; the gateway reflects it for the services the
// backend owns.

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "funnel/marketing/v1/marketing_service.grpc.pb.h"
#include "tests/testing/stack.h"

namespace funnel {
namespace {

using ::funnel::testing::FunnelStack;
using ::funnel::testing::HealthCheckResponse;
using ::funnel::testing::PrivateMariaDb;
using ::funnel::testing::WaitForHealth;

TEST(DatabaseOutageTest, HealthFollowsTheDatabaseDownAndBackUp) {
  PrivateMariaDb db;
  FunnelStack stack("outage", db.admin_options());
  const int marketing = stack.marketing_port();
  const int gateway = stack.gateway_port();
  ASSERT_TRUE(WaitForHealth(marketing, "", HealthCheckResponse::SERVING));
  ASSERT_TRUE(
      WaitForHealth(gateway, "funnel.marketing.v1.MarketingService", HealthCheckResponse::SERVING));

  db.Stop();
  EXPECT_TRUE(WaitForHealth(marketing, "", HealthCheckResponse::NOT_SERVING));
  EXPECT_TRUE(WaitForHealth(marketing, "funnel.marketing.v1.MarketingService",
                            HealthCheckResponse::NOT_SERVING));
  EXPECT_TRUE(WaitForHealth(gateway, "funnel.marketing.v1.MarketingService",
                            HealthCheckResponse::NOT_SERVING));
  // The gateway itself stays up.
  EXPECT_TRUE(WaitForHealth(gateway, "", HealthCheckResponse::SERVING));

  db.Start();
  EXPECT_TRUE(WaitForHealth(marketing, "", HealthCheckResponse::SERVING));
  EXPECT_TRUE(WaitForHealth(stack.sales_port(), "", HealthCheckResponse::SERVING));
  EXPECT_TRUE(WaitForHealth(gateway, "funnel.sales.v1.SalesService", HealthCheckResponse::SERVING));
  EXPECT_TRUE(stack.StopAll());
}

// A database that hangs (frozen, its connections open) is no better than one that
// is down: the health probe gives up on it after its own timeout instead of
// waiting on a socket, and health comes back when the database answers again.
TEST(DatabaseOutageTest, AHungDatabaseTurnsTheServiceNotServingWithinSeconds) {
  PrivateMariaDb db;
  FunnelStack stack("hung", db.admin_options());
  const int marketing = stack.marketing_port();
  ASSERT_TRUE(WaitForHealth(marketing, "", HealthCheckResponse::SERVING));
  db.Signal(SIGSTOP);
  const absl::Time frozen = absl::Now();
  const bool noticed =
      WaitForHealth(marketing, "", HealthCheckResponse::NOT_SERVING, absl::Seconds(10));
  const absl::Duration took = absl::Now() - frozen;
  db.Signal(SIGCONT);
  EXPECT_TRUE(noticed);
  EXPECT_LT(took, absl::Seconds(6));
  EXPECT_TRUE(WaitForHealth(marketing, "", HealthCheckResponse::SERVING));
  EXPECT_TRUE(WaitForHealth(stack.sales_port(), "", HealthCheckResponse::SERVING));
  EXPECT_TRUE(stack.StopAll());
}

// A call's deadline reaches the database: writes whose callers were told they
// failed (the database froze under them) are rolled back when it wakes, never
// committed behind the callers' backs.
TEST(DatabaseOutageTest, WritesReportedAsFailedDuringAFreezeNeverCommit) {
  PrivateMariaDb db;
  FunnelStack stack("freeze", db.admin_options());
  ASSERT_TRUE(WaitForHealth(stack.gateway_port(), "funnel.marketing.v1.MarketingService",
                            HealthCheckResponse::SERVING));
  auto marketing =
      marketing::v1::MarketingService::NewStub(stack.GatewayChannel(stack.Key("MARKETING")));
  db.Signal(SIGSTOP);
  std::vector<std::thread> callers;
  std::atomic<int> failed{0};
  for (int i = 0; i < 10; ++i) {
    callers.emplace_back([&, i] {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
      marketing::v1::CreateCampaignRequest r;
      r.mutable_campaign()->set_name(absl::StrCat("frozen-", i));
      r.mutable_campaign()->set_channel(marketing::v1::CHANNEL_EMAIL);
      marketing::v1::Campaign out;
      if (!marketing->CreateCampaign(&ctx, r, &out).ok()) ++failed;
    });
  }
  for (auto& t : callers) t.join();
  absl::SleepFor(absl::Seconds(2));
  db.Signal(SIGCONT);
  EXPECT_EQ(failed, 10);
  // The handlers wake with the database and finish what they were doing.
  ASSERT_TRUE(WaitForHealth(stack.marketing_port(), "", HealthCheckResponse::SERVING));
  absl::SleepFor(absl::Seconds(3));
  EXPECT_EQ(
      stack.marketing_db().QueryInt("SELECT COUNT(*) FROM campaigns WHERE name LIKE 'frozen-%'"),
      0);
  // And the service works again for callers with time to spare.
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  marketing::v1::CreateCampaignRequest r;
  r.mutable_campaign()->set_name("thawed");
  r.mutable_campaign()->set_channel(marketing::v1::CHANNEL_EMAIL);
  marketing::v1::Campaign out;
  const grpc::Status s = marketing->CreateCampaign(&ctx, r, &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(stack.StopAll());
}

}  // namespace
}  // namespace funnel
