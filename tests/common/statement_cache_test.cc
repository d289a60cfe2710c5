#include "common/mysql/statement_cache.h"

#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <gtest/gtest.h>

#include <sstream>

#include "common/mysql/pool.h"
#include "common/testing/status_matchers.h"
#include "tests/testing/harness.h"

namespace funnel::common {
namespace {

using ::funnel::testing::IsOk;
using ::funnel::testing::StatusIs;
using ::funnel::testing::TestDatabase;

// Statements this session has prepared on the server.
int64_t SessionPrepares(sql::Connection& conn) {
  std::unique_ptr<sql::Statement> st(conn.createStatement());
  std::unique_ptr<sql::ResultSet> rs(
      st->executeQuery("SHOW SESSION STATUS LIKE 'Com_stmt_prepare'"));
  return rs->next() ? rs->getInt64(2) : -1;
}

int64_t PlusOne(sql::Connection& conn, int64_t n) {
  auto st = Prepare(conn, "SELECT ? + 1");
  st->setInt64(1, n);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  return rs->next() ? rs->getInt64(1) : -1;
}

DbOptions OneConnection(const TestDatabase& db) {
  DbOptions options = db.options();
  options.pool_size = 1;
  return options;
}

TEST(StatementCacheTest, PreparesATextOncePerConnection) {
  TestDatabase db("stmt_reuse");
  ConnectionPool pool(OneConnection(db));
  int64_t before = 0;
  ASSERT_THAT(pool.WithConnection("t",
                                  [&](sql::Connection& conn) {
                                    before = SessionPrepares(conn);
                                    EXPECT_EQ(PlusOne(conn, 1), 2);
                                    EXPECT_EQ(PlusOne(conn, 41), 42);
                                    return absl::OkStatus();
                                  }),
              IsOk());
  // A later loan of the same connection, in a transaction this time.
  ASSERT_THAT(pool.InTransaction("t",
                                 [&](sql::Connection& conn) {
                                   EXPECT_EQ(PlusOne(conn, 9), 10);
                                   EXPECT_EQ(SessionPrepares(conn) - before, 1);
                                   return absl::OkStatus();
                                 }),
              IsOk());
}

TEST(StatementCacheTest, BoundValuesDoNotCarryOver) {
  TestDatabase db("stmt_params");
  db.Execute("CREATE TABLE blobs (id INT PRIMARY KEY, body BLOB)");
  ConnectionPool pool(OneConnection(db));
  ASSERT_THAT(
      pool.WithConnection("t",
                          [&](sql::Connection& conn) {
                            for (int id = 1; id <= 2; ++id) {
                              auto st = Prepare(conn, "INSERT INTO blobs (id, body) VALUES (?, ?)");
                              std::istringstream body(id == 1 ? "first"
                                                              : "second");  // gone after each turn
                              st->setInt(1, id);
                              st->setBlob(2, &body);
                              st->executeUpdate();
                            }
                            return absl::OkStatus();
                          }),
      IsOk());
  EXPECT_EQ(db.QueryStrings("SELECT body FROM blobs ORDER BY id"),
            (std::vector<std::string>{"first", "second"}));

  // The cached statement comes back with no values bound: running it unbound fails
  // rather than reusing the last caller's values.
  absl::Status unbound = pool.WithConnection("unbound", [&](sql::Connection& conn) {
    EXPECT_EQ(PlusOne(conn, 1), 2);
    auto st = Prepare(conn, "SELECT ? + 1");
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    return absl::OkStatus();
  });
  EXPECT_THAT(unbound, StatusIs(absl::StatusCode::kInternal));
}

TEST(StatementCacheTest, OneTextInUseTwiceAtOnceGetsTwoStatements) {
  TestDatabase db("stmt_twice");
  ConnectionPool pool(OneConnection(db));
  ASSERT_THAT(pool.WithConnection("t",
                                  [&](sql::Connection& conn) {
                                    auto outer = Prepare(conn, "SELECT ? + 1");
                                    outer->setInt(1, 1);
                                    std::unique_ptr<sql::ResultSet> rows(outer->executeQuery());
                                    // While `rows` is open, the same text runs again on its own
                                    // statement.
                                    EXPECT_EQ(PlusOne(conn, 100), 101);
                                    EXPECT_TRUE(rows->next());
                                    EXPECT_EQ(rows->getInt64(1), 2);
                                    return absl::OkStatus();
                                  }),
              IsOk());
}

TEST(StatementCacheTest, StatementsOutsideALoanAreNotCached) {
  TestDatabase db("stmt_outside");
  ConnectionPool pool(OneConnection(db));
  auto conn = pool.Acquire();
  ASSERT_THAT(conn, IsOk());
  EXPECT_EQ(PlusOne(**conn, 1), 2);
  EXPECT_EQ((*conn).statements()->idle(), 0u);
}

TEST(StatementCacheTest, KeepsTheMostRecentlyUsedUpToCapacity) {
  TestDatabase db("stmt_lru");
  ConnectionPool pool(OneConnection(db));
  auto conn = pool.Acquire();
  ASSERT_THAT(conn, IsOk());
  StatementCache cache(2);
  for (const char* sql : {"SELECT 1", "SELECT 2", "SELECT 3"}) {
    cache.Give(sql, std::unique_ptr<sql::PreparedStatement>((*conn)->prepareStatement(sql)));
  }
  EXPECT_EQ(cache.idle(), 2u);
  EXPECT_EQ(cache.Take("SELECT 1"), nullptr);
  std::unique_ptr<sql::PreparedStatement> three = cache.Take("SELECT 3");
  ASSERT_NE(three, nullptr);
  std::unique_ptr<sql::ResultSet> rs(three->executeQuery());
  ASSERT_TRUE(rs->next());
  EXPECT_EQ(rs->getInt(1), 3);
  cache.Close();
  EXPECT_EQ(cache.idle(), 0u);
  cache.Give("SELECT 3", std::move(three));  // after Close: deleted, not kept
  EXPECT_EQ(cache.idle(), 0u);
}

TEST(StatementCacheTest, AKilledConnectionIsReplacedWithFreshStatements) {
  TestDatabase db("stmt_killed");
  ConnectionPool pool(OneConnection(db));
  int64_t id = 0;
  ASSERT_THAT(pool.WithConnection("t",
                                  [&](sql::Connection& conn) {
                                    EXPECT_EQ(PlusOne(conn, 1), 2);  // cached now
                                    std::unique_ptr<sql::Statement> st(conn.createStatement());
                                    std::unique_ptr<sql::ResultSet> rs(
                                        st->executeQuery("SELECT CONNECTION_ID()"));
                                    rs->next();
                                    id = rs->getInt64(1);
                                    return absl::OkStatus();
                                  }),
              IsOk());
  db.Execute(absl::StrCat("KILL ", id));

  // The first use after the kill may fail (UNAVAILABLE, the connection is dropped
  // with its statements); the pool then serves a new connection that prepares again.
  absl::Status status;
  for (int i = 0; i < 3; ++i) {
    status = pool.WithConnection("after kill", [&](sql::Connection& conn) {
      EXPECT_EQ(PlusOne(conn, 5), 6);
      return absl::OkStatus();
    });
    if (status.ok()) break;
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable));
  }
  EXPECT_THAT(status, IsOk());
}

}  // namespace
}  // namespace funnel::common
