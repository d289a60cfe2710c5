#pragma once

// Tests on the three-node Galera cluster `./dev test` starts (skipped without one).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/testing/harness.h"

namespace funnel::testing {

class GaleraFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    nodes_ = TestClusterNodes();
    // Skipped, not failed, when run by hand without a cluster (a bare ctest, a
    // developer's one test binary); ./dev test always starts one, so in CI these run.
    if (nodes_.size() < 3) {
      GTEST_SKIP() << "no Galera cluster: ./dev test starts one (FUNNEL_TEST_CLUSTER_PORTS)";
    }
  }

  // `db`'s options on node `n` (the database and its users replicate).
  common::DbOptions On(const common::DbOptions& db, size_t n) const {
    common::DbOptions o = db;
    o.port = nodes_[n % nodes_.size()].port;
    return o;
  }

  // `db`'s database on node `n`, read as its admin.
  int64_t QueryOnNode(const TestDatabase& db, size_t n, const std::string& sql) const {
    common::DbOptions on = nodes_[n];
    on.database = db.options().database;
    common::ConnectionPool pool(on);
    return QueryInt(pool, sql);
  }

  void SyncNodes() const { SyncClusterNodes(nodes_); }

  std::vector<common::DbOptions> nodes_;
};

}  // namespace funnel::testing
