#include "common/mysql/pool.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/barrier.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/call_deadline.h"
#include "common/testing/status_matchers.h"
#include "tests/testing/harness.h"

namespace funnel::common {
namespace {

using ::funnel::testing::FreePort;
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

// The current call's deadline bounds the database work done for it: a statement
// outlasting it (waiting for a row lock another transaction holds) is stopped by
// the server, a transaction finishing after it is rolled back, and a connection
// serves later calls without the limit.
TEST(ConnectionPoolTest, TheCallsDeadlineBoundsStatementsAndCommits) {
  TestDatabase db("pool_deadline");
  db.Execute("CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)");
  db.Execute("INSERT INTO t VALUES (1, 0)");
  DbOptions options = db.options();
  options.pool_size = 1;  // one connection: its session limit must be reset
  ConnectionPool pool(options);
  ConnectionPool other(db.options());
  absl::Notification locked;
  std::thread holder([&] {
    EXPECT_THAT(other.InTransaction("hold the row",
                                    [&](sql::Connection& conn) {
                                      Exec(conn, "UPDATE t SET v = 9 WHERE id = 1");
                                      locked.Notify();
                                      absl::SleepFor(absl::Seconds(3));
                                      return absl::FailedPreconditionError("roll back");
                                    }),
                StatusIs(absl::StatusCode::kFailedPrecondition));
  });
  locked.WaitForNotification();
  {
    const CallDeadlineScope deadline(absl::Now() + absl::Seconds(1));
    const absl::Time start = absl::Now();
    EXPECT_THAT(pool.InTransaction("wait for the row",
                                   [](sql::Connection& conn) {
                                     Exec(conn, "UPDATE t SET v = 1 WHERE id = 1");
                                     return absl::OkStatus();
                                   }),
                StatusIs(absl::StatusCode::kDeadlineExceeded));
    EXPECT_LT(absl::Now() - start, absl::Milliseconds(2500));
  }
  holder.join();
  {
    const CallDeadlineScope deadline(absl::Now() + absl::Milliseconds(300));
    EXPECT_THAT(pool.InTransaction("slow update",
                                   [](sql::Connection& conn) {
                                     Exec(conn, "UPDATE t SET v = 2 WHERE id = 1");
                                     absl::SleepFor(absl::Milliseconds(500));  // past it
                                     return absl::OkStatus();
                                   }),
                StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("nothing was committed")));
  }
  EXPECT_EQ(db.QueryInt("SELECT v FROM t"), 0);
  // No deadline: no limit, on the same connection.
  EXPECT_THAT(pool.WithConnection("slow read",
                                  [](sql::Connection& conn) {
                                    std::unique_ptr<sql::Statement> st(conn.createStatement());
                                    std::unique_ptr<sql::ResultSet> rs(
                                        st->executeQuery("SELECT SLEEP(1.5)"));
                                    EXPECT_TRUE(rs->next());
                                    EXPECT_EQ(rs->getInt(1), 0);  // 1 when interrupted
                                    return absl::OkStatus();
                                  }),
              IsOk());
}

// A value a column cannot hold is the caller's input: INVALID_ARGUMENT naming the
// column, and the transaction changed nothing.
TEST(ConnectionPoolTest, AValueTheColumnCannotHoldIsInvalidArgument) {
  TestDatabase db("pool_data");
  db.Execute("CREATE TABLE t (id INT PRIMARY KEY, note VARCHAR(5) NOT NULL, n TINYINT NOT NULL)");
  ConnectionPool pool(db.options());
  EXPECT_THAT(pool.InTransaction("too long",
                                 [](sql::Connection& conn) {
                                   Exec(conn, "INSERT INTO t VALUES (1, 'ok', 1)");
                                   Exec(conn, "INSERT INTO t VALUES (2, 'far too long', 1)");
                                   return absl::OkStatus();
                                 }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("note: longer than")));
  EXPECT_THAT(pool.InTransaction("out of range",
                                 [](sql::Connection& conn) {
                                   Exec(conn, "INSERT INTO t VALUES (3, 'ok', 1000)");
                                   return absl::OkStatus();
                                 }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("n: ")));
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM t"), 0);
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

TEST(DbNodesTest, AListSetsTheFirstNodeAndTheOthers) {
  DbOptions options;
  ASSERT_THAT(SetNodes("db1:3306, db2:3307,10.0.0.3:3308", options), IsOk());
  EXPECT_EQ(options.host, "db1");
  EXPECT_EQ(options.port, 3306);
  EXPECT_EQ(options.other_nodes, (std::vector<std::string>{"db2:3307", "10.0.0.3:3308"}));
  for (const char* bad : {"", "db1", "db1:", ":3306", "db1:0", "db1:70000", "db1:3306,db2:x"}) {
    EXPECT_THAT(SetNodes(bad, options),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("db_hosts")))
        << bad;
  }
}

// A node that cannot be reached is passed over for the next one on the list.
TEST(ConnectionPoolTest, ConnectsToTheNextNodeWhenOneIsDown) {
  TestDatabase db("pool_nodes");
  DbOptions options = db.options();
  options.other_nodes = {absl::StrCat(options.host, ":", options.port)};
  options.port = FreePort();  // nothing listens there
  ConnectionPool pool(options);
  EXPECT_THAT(pool.Ping(), IsOk());
  {
    auto conn = pool.Acquire();
    ASSERT_THAT(conn, IsOk());
    EXPECT_EQ(conn->node(), 1);
  }
  // Later connections go straight to the node that worked.
  auto a = pool.Acquire();
  auto b = pool.Acquire();
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ(b->node(), 1);
}

// A connection that dies inside a transaction (its node was killed) took the
// transaction with it: the pool runs it again on a fresh connection, once.
TEST(ConnectionPoolTest, ATransactionWhoseConnectionDiedBeforeCommitRunsAgain) {
  TestDatabase db("pool_lost");
  db.Execute("CREATE TABLE t (id INT PRIMARY KEY)");
  ConnectionPool pool(db.options());
  int attempts = 0;
  EXPECT_THAT(pool.InTransaction("insert",
                                 [&](sql::Connection& conn) {
                                   ++attempts;
                                   Exec(conn, "INSERT INTO t VALUES (1)");
                                   if (attempts == 1) {
                                     std::unique_ptr<sql::Statement> st(conn.createStatement());
                                     std::unique_ptr<sql::ResultSet> id(
                                         st->executeQuery("SELECT CONNECTION_ID()"));
                                     id->next();
                                     db.Execute(absl::StrCat("KILL ", id->getInt64(1)));
                                     Exec(conn, "INSERT INTO t VALUES (2)");  // throws: lost
                                   }
                                   return absl::OkStatus();
                                 }),
              IsOk());
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM t"), 1);
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
