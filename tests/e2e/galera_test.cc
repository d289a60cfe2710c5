// Funnel on a three-node MariaDB Galera cluster (`./dev cluster`, which `./dev
// test` starts): what breaks when the database is several primaries at once.

#include <cppconn/statement.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/mysql/migrations.h"
#include "common/testing/status_matchers.h"
#include "tests/e2e/galera_fixture.h"
#include "tests/testing/harness.h"

namespace funnel {
namespace {

using ::funnel::testing::IsOk;
using ::funnel::testing::TestDatabase;

using GaleraTest = testing::GaleraFixture;

// GET_LOCK is node-local on Galera: migrators on two nodes both took it and both
// ran CREATE TABLE (error 1050). The lease row is certified cluster-wide.
TEST_F(GaleraTest, MigratorsOnEveryNodeAtOnceApplyEachMigrationOnce) {
  TestDatabase db("galera_migrate", nodes_[0]);
  SyncNodes();
  const std::vector<common::Migration> migrations = {
      {1, "create", "CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(20));\n"},
      {2, "seed", "INSERT INTO items VALUES (1, 'a');\nINSERT INTO items VALUES (2, 'b');\n"},
      {3, "alter", "ALTER TABLE items ADD COLUMN extra INT NOT NULL DEFAULT 7;\n"},
  };
  std::vector<absl::Status> results(6);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      common::ConnectionPool pool(On(db.options(), i));
      results[i] = common::ApplyMigrations(pool, migrations);
    });
  }
  for (auto& t : threads) t.join();
  for (const absl::Status& s : results) EXPECT_THAT(s, IsOk());
  for (size_t n = 0; n < nodes_.size(); ++n) {
    common::ConnectionPool pool(On(db.options(), n));
    EXPECT_EQ(testing::QueryInt(pool, "SELECT COUNT(*) FROM items"), 2) << "node " << n;
    EXPECT_EQ(testing::QueryInt(pool, "SELECT SUM(extra) FROM items"), 14) << "node " << n;
    EXPECT_EQ(testing::QueryInt(pool, "SELECT COUNT(*) FROM schema_migrations"), 3) << "node " << n;
  }
}

// What a rollout does when four replicas start at once, on three nodes: the real
// marketing_service binary, --migrate_only, each against its node.
TEST_F(GaleraTest, FourServiceReplicasMigratingOnThreeNodesApplyTheSchemaOnce) {
  TestDatabase db("galera_replicas", nodes_[0]);
  const common::DbOptions user = db.CreateOwnUser();
  SyncNodes();
  std::vector<std::unique_ptr<testing::ChildProcess>> replicas;
  for (int i = 0; i < 4; ++i) {
    replicas.push_back(std::make_unique<testing::ChildProcess>(
        absl::StrCat("marketing_migrate_", i),
        std::vector<std::string>{testing::BinaryPath("marketing_service"), "--migrate_only",
                                 absl::StrCat("--port=", testing::FreePort()),
                                 absl::StrCat("--db_port=", On(user, i).port),
                                 "--db_name=" + user.database, "--db_user=" + user.user,
                                 "--allow_direct_calls"},
        std::map<std::string, std::string>{{"FUNNEL_DB_PASSWORD", user.password}}));
  }
  std::string logs;
  for (auto& r : replicas) {
    EXPECT_EQ(r->Wait(absl::Seconds(120)), 0) << r->Log();
    absl::StrAppend(&logs, r->Log(), "\n");
  }
  const int64_t versions = db.QueryInt("SELECT COUNT(*) FROM schema_migrations");
  EXPECT_GT(versions, 0);
  // Each migration was applied by one replica, once.
  for (int64_t v = 1; v <= versions; ++v) {
    const std::string line = absl::StrCat(
        "\"msg\":\"applying migration\",\"track\":\"schema_migrations\",\"version\":", v, ",");
    size_t count = 0;
    for (size_t at = logs.find(line); at != std::string::npos; at = logs.find(line, at + 1)) {
      ++count;
    }
    EXPECT_EQ(count, 1u) << "version " << v << "\n" << logs;
  }
  for (size_t n = 0; n < nodes_.size(); ++n) {
    common::ConnectionPool pool(On(db.options(), n));
    EXPECT_EQ(testing::QueryInt(pool, "SELECT COUNT(*) FROM schema_migrations"), versions)
        << "node " << n;
    EXPECT_EQ(testing::QueryInt(pool, "SELECT COUNT(*) FROM schema_migrations_progress"), 0)
        << "node " << n;
    EXPECT_EQ(testing::QueryInt(pool,
                                "SELECT COUNT(*) FROM information_schema.tables WHERE "
                                "table_schema = DATABASE() AND table_name = 'leads'"),
              1)
        << "node " << n;
  }
}

// A transaction on one node whose rows another node's commit takes first is
// aborted by the cluster while it sits idle (a brute-force abort), and the next
// command it sends gets the error. When that command is COMMIT, Connector/C++'s
// Connection::commit() dropped the error: the caller was told its work was
// committed, and it had been rolled back (acknowledged captures were lost).
TEST_F(GaleraTest, ATransactionTheClusterAbortsAtCommitRunsAgain) {
  TestDatabase db("galera_bf", nodes_[0]);
  db.Execute(
      "CREATE TABLE l (id BIGINT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(320) NULL, "
      "UNIQUE KEY le (email), n INT NOT NULL DEFAULT 0)");
  SyncNodes();
  common::ConnectionPool first(On(db.options(), 1)), second(On(db.options(), 2));
  int attempts = 0;
  EXPECT_THAT(second.InTransaction("second",
                                   [&](sql::Connection& conn) {
                                     ++attempts;
                                     std::unique_ptr<sql::Statement> st(conn.createStatement());
                                     st->execute(
                                         "INSERT INTO l (email, n) VALUES ('a', 1) ON DUPLICATE "
                                         "KEY UPDATE n = n + 1");
                                     if (attempts > 1) return absl::OkStatus();
                                     // Node 1 commits the same email meanwhile, and its write
                                     // set reaches this node while this transaction waits.
                                     EXPECT_THAT(
                                         first.InTransaction("first",
                                                             [](sql::Connection& c) {
                                                               std::unique_ptr<sql::Statement> s(
                                                                   c.createStatement());
                                                               s->execute(
                                                                   "INSERT INTO l (email, n) "
                                                                   "VALUES ('a', 1)");
                                                               return absl::OkStatus();
                                                             }),
                                         IsOk());
                                     absl::SleepFor(absl::Milliseconds(500));
                                     return absl::OkStatus();  // COMMIT is the next command
                                   }),
              IsOk());
  EXPECT_EQ(attempts, 2);
  // Both increments are there: node 1's insert and this transaction's rerun.
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM l"), 1);
  EXPECT_EQ(db.QueryInt("SELECT n FROM l WHERE email = 'a'"), 2);
}

}  // namespace
}  // namespace funnel
