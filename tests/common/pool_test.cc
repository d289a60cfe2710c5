#include "common/mysql/pool.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/synchronization/barrier.h"
#include "absl/time/clock.h"
#include "common/testing/status_matchers.h"
#include "tests/testing/harness.h"

namespace funnel::common {
namespace {

using ::funnel::testing::IsOk;
using ::funnel::testing::PrivateMariaDb;
using ::funnel::testing::StatusIs;
using ::funnel::testing::TestDatabase;
using ::testing::HasSubstr;

void Exec(sql::Connection& conn, const std::string& sql) {
  std::unique_ptr<sql::Statement> st(conn.createStatement());
  st->execute(sql);
}

TEST(ConnectionPoolTest, WaitsThenFailsWhenExhausted) {
  TestDatabase db("pool_exhaust");
  DbOptions options = db.options();
  options.pool_size = 2;
  options.acquire_timeout = absl::Milliseconds(200);
  ConnectionPool pool(options);
  auto a = pool.Acquire();
  auto b = pool.Acquire();
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  const absl::Time start = absl::Now();
  EXPECT_THAT(pool.Acquire(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("exhausted")));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(150));
  EXPECT_EQ(pool.open_connections(), 2);

  // A connection given back in the meantime is handed to the waiter.
  std::thread giver([conn = std::move(*a)]() mutable {
    absl::SleepFor(absl::Milliseconds(50));
    PooledConnection gone = std::move(conn);
  });
  EXPECT_THAT(pool.Acquire(), IsOk());
  giver.join();
  EXPECT_EQ(pool.open_connections(), 2);
}

TEST(ConnectionPoolTest, ReusesConnections) {
  TestDatabase db("pool_reuse");
  ConnectionPool pool(db.options());
  for (int i = 0; i < 20; ++i) ASSERT_THAT(pool.Ping(), IsOk());
  EXPECT_EQ(pool.open_connections(), 1);
}

TEST(ConnectionPoolTest, TransactionCommitsOnOkAndRollsBackOnError) {
  TestDatabase db("pool_tx");
  db.Execute("CREATE TABLE t (id INT PRIMARY KEY)");
  ConnectionPool pool(db.options());
  EXPECT_THAT(pool.InTransaction("insert",
                                 [](sql::Connection& conn) {
                                   Exec(conn, "INSERT INTO t VALUES (1)");
                                   return absl::OkStatus();
                                 }),
              IsOk());
  EXPECT_THAT(pool.InTransaction("insert then fail",
                                 [](sql::Connection& conn) {
                                   Exec(conn, "INSERT INTO t VALUES (2)");
                                   return absl::FailedPreconditionError("changed my mind");
                                 }),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(pool.InTransaction("insert duplicate",
                                 [](sql::Connection& conn) {
                                   Exec(conn, "INSERT INTO t VALUES (3)");
                                   Exec(conn, "INSERT INTO t VALUES (1)");  // duplicate key: throws
                                   return absl::OkStatus();
                                 }),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM t"), 1);
  EXPECT_EQ(db.QueryInt("SELECT MAX(id) FROM t"), 1);
}

TEST(ConnectionPoolTest, RetriesDeadlockedTransactions) {
  TestDatabase db("pool_deadlock");
  db.Execute("CREATE TABLE acct (id INT PRIMARY KEY, n INT NOT NULL)");
  db.Execute("INSERT INTO acct VALUES (1, 0), (2, 0)");
  ConnectionPool pool(db.options());
  // Two transactions lock the rows in opposite order; the first attempt of each
  // meets at the barrier, so one of them deadlocks and must be retried.
  absl::Barrier* barrier = new absl::Barrier(2);
  std::atomic<int> attempts{0};
  auto worker = [&](int first, int second) {
    return pool.InTransaction("transfer", [&, first, second](sql::Connection& conn) {
      const bool first_attempt = attempts.fetch_add(1) < 2;
      Exec(conn, "UPDATE acct SET n = n + 1 WHERE id = " + std::to_string(first));
      if (first_attempt && barrier->Block()) delete barrier;
      Exec(conn, "UPDATE acct SET n = n + 1 WHERE id = " + std::to_string(second));
      return absl::OkStatus();
    });
  };
  absl::Status s1, s2;
  std::thread t1([&] { s1 = worker(1, 2); });
  std::thread t2([&] { s2 = worker(2, 1); });
  t1.join();
  t2.join();
  EXPECT_THAT(s1, IsOk());
  EXPECT_THAT(s2, IsOk());
  EXPECT_GE(attempts.load(), 3);                         // at least one retry happened
  EXPECT_EQ(db.QueryInt("SELECT SUM(n) FROM acct"), 4);  // each committed exactly once
}

TEST(ConnectionPoolTest, RecoversAfterServerRestart) {
  PrivateMariaDb server;
  TestDatabase db("pool_restart", server.admin_options());
  DbOptions options = db.options();
  options.pool_size = 4;
  options.acquire_timeout = absl::Seconds(2);
  ConnectionPool pool(options);
  {
    // Fill the pool with several idle connections.
    auto a = pool.Acquire();
    auto b = pool.Acquire();
    auto c = pool.Acquire();
    ASSERT_THAT(c, IsOk());
  }
  ASSERT_EQ(pool.open_connections(), 3);

  server.Stop();
  EXPECT_THAT(pool.Ping(), StatusIs(absl::StatusCode::kUnavailable));
  server.Start();
  // Stale connections are detected and replaced without any intervention.
  absl::Status status;
  for (int i = 0; i < 50; ++i) {
    status = pool.Ping();
    if (status.ok()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_THAT(status, IsOk());
  for (int i = 0; i < 5; ++i) EXPECT_THAT(pool.Ping(), IsOk());
  EXPECT_LE(pool.open_connections(), 4);
}

}  // namespace
}  // namespace funnel::common
