// The relay's replica list: what an address flag may say, and what it resolves to.

#include "gateway/replica_directory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace funnel::gateway {
namespace {

using ::testing::HasSubstr;

TEST(ReplicaSpecsTest, ListsNamesAndDnsTargetsParseAndNothingElse) {
  absl::StatusOr<std::vector<ReplicaSpec>> specs =
      ParseReplicaSpecs("10.0.0.1:50053, dns:///sales:50053,[::1]:7", "sales_address");
  ASSERT_TRUE(specs.ok()) << specs.status();
  ASSERT_EQ(specs->size(), 3u);
  EXPECT_EQ((*specs)[0].host, "10.0.0.1");
  EXPECT_EQ((*specs)[1].host, "sales");
  EXPECT_EQ((*specs)[1].port, "50053");
  EXPECT_EQ((*specs)[2].host, "::1");
  for (const char* bad : {"", "sales", "sales:", ":50053", "dns://server/sales:1"}) {
    absl::StatusOr<std::vector<ReplicaSpec>> refused = ParseReplicaSpecs(bad, "sales_address");
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(refused.status().message(), HasSubstr("--sales_address")) << bad;
  }
}

TEST(ReplicaDirectoryTest, ANameBecomesEveryAddressItHas) {
  ReplicaDirectory directory({{Backend::kSales, {{"localhost", "50053"}, {"127.0.0.2", "9"}}},
                              {Backend::kMarketing, {{"no-such-host.invalid", "1"}}}});
  directory.Refresh();
  std::vector<std::string> addresses;
  for (const Replica& r : *directory.Of(Backend::kSales)) addresses.push_back(r.address);
  EXPECT_THAT(addresses, ::testing::Contains("127.0.0.1:50053"));
  EXPECT_THAT(addresses, ::testing::Contains("127.0.0.2:9"));
  const Replica& first = directory.Of(Backend::kSales)->front();
  EXPECT_EQ(first.authority, "localhost:50053");
  EXPECT_EQ(first.name, "localhost");
  // A name that resolves to nothing leaves its backend without replicas (every
  // call UNAVAILABLE), rather than failing the gateway's start.
  EXPECT_TRUE(directory.Of(Backend::kMarketing)->empty());
}

TEST(ReplicaDirectoryTest, AFailingHealthCheckTakesAReplicaOutUntilItPasses) {
  ReplicaDirectory directory({{Backend::kSales, {{"127.0.0.1", "1"}, {"127.0.0.2", "2"}}}});
  directory.Refresh();
  std::set<std::string> failing = {"127.0.0.1:1"};
  auto check = [&](const Replica& r) {
    return failing.count(r.address) ? absl::UnavailableError("down") : absl::OkStatus();
  };
  auto addresses = [&] {
    std::vector<std::string> out;
    for (const Replica& r : *directory.Of(Backend::kSales)) out.push_back(r.address);
    return out;
  };
  directory.CheckHealth(check);
  EXPECT_THAT(addresses(), ::testing::ElementsAre("127.0.0.2:2"));
  // None healthy: every replica again, so calls find one back.
  failing.insert("127.0.0.2:2");
  directory.CheckHealth(check);
  EXPECT_THAT(addresses(), ::testing::ElementsAre("127.0.0.1:1", "127.0.0.2:2"));
  failing = {"127.0.0.2:2"};
  directory.CheckHealth(check);
  EXPECT_THAT(addresses(), ::testing::ElementsAre("127.0.0.1:1"));
  // A new resolution keeps what the last check found.
  directory.Refresh();
  EXPECT_THAT(addresses(), ::testing::ElementsAre("127.0.0.1:1"));
}

}  // namespace
}  // namespace funnel::gateway
