#include "bench/galera_stats.h"

#include <gtest/gtest.h>

namespace funnel::bench {
namespace {

TEST(GaleraWindowFiguresTest, CountersAreSummedOverNodesAndGaugesReadAtTheEnd) {
  const std::vector<WsrepStatus> before = {
      {{"wsrep_replicated", 100},
       {"wsrep_replicated_bytes", 50'000},
       {"wsrep_local_cert_failures", 1},
       {"wsrep_flow_control_paused_ns", 1e9}},
      {{"wsrep_replicated", 10}, {"wsrep_replicated_bytes", 4'000}, {"wsrep_local_bf_aborts", 2}},
  };
  const std::vector<WsrepStatus> after = {
      {{"wsrep_replicated", 300},
       {"wsrep_replicated_bytes", 150'000},
       {"wsrep_local_cert_failures", 4},
       {"wsrep_flow_control_paused_ns", 3e9},
       {"wsrep_flow_control_sent", 5},
       {"wsrep_local_recv_queue_avg", 0.5},
       {"wsrep_cert_deps_distance", 10}},
      {{"wsrep_replicated", 210},
       {"wsrep_replicated_bytes", 104'000},
       {"wsrep_local_bf_aborts", 3},
       {"wsrep_local_recv_queue_avg", 2.5},
       {"wsrep_cert_deps_distance", 20}},
  };
  const auto f = GaleraWindowFigures(before, after, /*seconds=*/10);
  EXPECT_EQ(f.at("write_sets"), 400);
  EXPECT_EQ(f.at("write_set_bytes"), 500);  // 200,000 bytes over 400 write sets
  EXPECT_EQ(f.at("cert_failures"), 3);
  EXPECT_EQ(f.at("bf_aborts"), 1);
  EXPECT_DOUBLE_EQ(f.at("flow_control_paused"), 0.2);  // 2 s of 10 on node 0
  EXPECT_EQ(f.at("flow_control_sent"), 5);
  EXPECT_EQ(f.at("recv_queue_avg"), 2.5);
  EXPECT_EQ(f.at("cert_deps_distance"), 15);
}

// A node that did not answer one of the snapshots adds nothing, and an idle window
// divides no bytes by zero write sets.
TEST(GaleraWindowFiguresTest, AMissingNodeOrAnIdleWindowGivesZeros) {
  const std::vector<WsrepStatus> before = {{}, {{"wsrep_replicated", 7}}};
  const std::vector<WsrepStatus> after = {{{"wsrep_replicated", 5000}}, {{"wsrep_replicated", 9}}};
  auto f = GaleraWindowFigures(before, after, 10);
  EXPECT_EQ(f.at("write_sets"), 2);
  f = GaleraWindowFigures({{}}, {{}}, 0);
  EXPECT_EQ(f.at("write_sets"), 0);
  EXPECT_EQ(f.at("write_set_bytes"), 0);
  EXPECT_EQ(f.at("flow_control_paused"), 0);
}

}  // namespace
}  // namespace funnel::bench
