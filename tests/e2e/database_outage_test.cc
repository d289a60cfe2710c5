// A service reports NOT_SERVING while its database is down and SERVING again by
// itself once the database is back; the gateway reflects it for the services the
// backend owns.

#include <gtest/gtest.h>
#include <signal.h>

#include "absl/time/clock.h"
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

}  // namespace
}  // namespace funnel
