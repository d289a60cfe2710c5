#include "common/mysql/migrations.h"

#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "tests/testing/harness.h"

namespace funnel::common {
namespace {

using ::funnel::testing::IsOk;
using ::funnel::testing::StatusIs;
using ::funnel::testing::TestDatabase;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<Migration> ThreeMigrations() {
  return {
      {1, "create_items", "CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(20));\n"},
      // Depends on migration 1, so it only works when applied after it.
      {2, "seed_items",
       "-- two rows\nINSERT INTO items VALUES (1, 'a;b');\nINSERT INTO items VALUES (2, 'c');\n"},
      {3, "add_column", "ALTER TABLE items ADD COLUMN extra INT NOT NULL DEFAULT 7;\n"},
  };
}

TEST(SplitSqlStatementsTest, SplitsAtLineEndSemicolonsAndDropsComments) {
  EXPECT_THAT(
      SplitSqlStatements("-- header\nCREATE TABLE a (x INT);\n\n"
                         "INSERT INTO a VALUES (1); \n-- trailing comment\n"),
      ElementsAre("-- header\nCREATE TABLE a (x INT);\n", "\nINSERT INTO a VALUES (1); \n"));
  EXPECT_THAT(SplitSqlStatements("SELECT 'a;b' FROM dual;\n"),
              ElementsAre("SELECT 'a;b' FROM dual;\n"));
}

TEST(ApplyMigrationsTest, AppliesInOrderAndOnlyOnce) {
  TestDatabase db("migrate_once");
  ConnectionPool pool(db.options());
  ASSERT_THAT(ApplyMigrations(pool, ThreeMigrations()), IsOk());
  ASSERT_THAT(ApplyMigrations(pool, ThreeMigrations()), IsOk());
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM items"), 2);  // seeds not repeated
  EXPECT_EQ(db.QueryInt("SELECT SUM(extra) FROM items"), 14);
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM schema_migrations"), 3);
  EXPECT_EQ(db.QueryInt("SELECT MAX(version) FROM schema_migrations"), 3);
}

TEST(ApplyMigrationsTest, AppliesOnlyPendingOnes) {
  TestDatabase db("migrate_pending");
  ConnectionPool pool(db.options());
  std::vector<Migration> first_two = ThreeMigrations();
  first_two.pop_back();
  ASSERT_THAT(ApplyMigrations(pool, first_two), IsOk());
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = "
                        "DATABASE() AND table_name = 'items' AND column_name = 'extra'"),
            0);
  ASSERT_THAT(ApplyMigrations(pool, ThreeMigrations()), IsOk());
  EXPECT_EQ(db.QueryInt("SELECT SUM(extra) FROM items"), 14);
}

TEST(ApplyMigrationsTest, RefusesADatabaseNewerThanTheBinary) {
  TestDatabase db("migrate_newer");
  ConnectionPool pool(db.options());
  ASSERT_THAT(ApplyMigrations(pool, ThreeMigrations()), IsOk());
  std::vector<Migration> older = ThreeMigrations();
  older.pop_back();
  EXPECT_THAT(ApplyMigrations(pool, older),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("schema is at version 3 but this binary knows versions up to 2")));
}

TEST(ApplyMigrationsTest, RejectsVersionsOutOfOrder) {
  TestDatabase db("migrate_order");
  ConnectionPool pool(db.options());
  std::vector<Migration> bad = ThreeMigrations();
  std::swap(bad[0], bad[1]);
  EXPECT_THAT(ApplyMigrations(pool, bad), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
                        "DATABASE()"),
            0);
}

TEST(ApplyMigrationsTest, ConcurrentStartsApplyEachMigrationOnce) {
  TestDatabase db("migrate_race");
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      ConnectionPool pool(db.options());
      results[i] = ApplyMigrations(pool, ThreeMigrations());
    });
  }
  for (auto& t : threads) t.join();
  for (const absl::Status& s : results) EXPECT_THAT(s, IsOk());
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM items"), 2);
}

// A migrator that dies half-way through a migration (DDL commits statement by
// statement) leaves part of it applied; the next one continues from there.
TEST(ApplyMigrationsTest, AHalfAppliedMigrationIsResumed) {
  TestDatabase db("migrate_resume");
  ConnectionPool pool(db.options());
  const std::vector<Migration> two_steps = {{1, "two_tables",
                                             "CREATE TABLE first_half (id INT PRIMARY KEY);\n"
                                             "INSERT INTO needs_setup VALUES (1);\n"
                                             "CREATE TABLE second_half (id INT PRIMARY KEY);\n"}};
  // The second statement fails: the first one's table stays, the version is not
  // recorded.
  EXPECT_THAT(ApplyMigrations(pool, two_steps), StatusIs(absl::StatusCode::kInternal));
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
                        "DATABASE() AND table_name = 'first_half'"),
            1);
  db.Execute("CREATE TABLE needs_setup (id INT PRIMARY KEY)");
  ASSERT_THAT(ApplyMigrations(pool, two_steps), IsOk());
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM needs_setup"), 1);
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
                        "DATABASE() AND table_name = 'second_half'"),
            1);
  EXPECT_EQ(db.QueryInt("SELECT MAX(version) FROM schema_migrations"), 1);
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM schema_migrations_progress"), 0);
}

// A DDL statement the dead migrator ran, but did not live to record, is not run
// twice into an error.
TEST(ApplyMigrationsTest, ADdlStatementAppliedButNotRecordedIsSkipped) {
  TestDatabase db("migrate_ddl_resume");
  ConnectionPool pool(db.options());
  ASSERT_THAT(ApplyMigrations(pool, {}), IsOk());  // the tracking tables
  // As a migrator leaves it when it dies right after statement 0 committed.
  db.Execute("CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(20))");
  db.Execute("INSERT INTO schema_migrations_progress VALUES (1, -1)");
  ASSERT_THAT(ApplyMigrations(pool, ThreeMigrations()), IsOk());
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM items"), 2);
  EXPECT_EQ(db.QueryInt("SELECT MAX(version) FROM schema_migrations"), 3);
}

// A backfill over a large table runs as many transactions of a bounded size, and
// sums right; one that a dead migrator left half-way goes on from its next chunk.
TEST(ApplyMigrationsTest, ABackfillRunsInChunksAndResumesFromTheNextOne) {
  TestDatabase db("migrate_chunks");
  ConnectionPool pool(db.options());
  db.Execute("CREATE TABLE events (id INT PRIMARY KEY, kind INT NOT NULL)");
  std::string values;
  for (int id = 3; id <= 95; ++id)
    absl::StrAppend(&values, id == 3 ? "" : ",", "(", id, ",", id % 4, ")");
  db.Execute("INSERT INTO events VALUES " + values);
  const std::vector<Migration> backfill = {
      {1, "counts",
       "CREATE TABLE counts (kind INT PRIMARY KEY, n INT NOT NULL);\n"
       "-- funnel:chunk events.id 10\n"
       "INSERT INTO counts (kind, n) SELECT kind, COUNT(*) FROM events\n"
       "WHERE id >= {lo} AND id < {hi} GROUP BY kind\n"
       "ON DUPLICATE KEY UPDATE n = n + VALUES(n);\n"
       "CREATE TABLE after_it (id INT PRIMARY KEY);\n"}};
  ASSERT_THAT(ApplyMigrations(pool, backfill), IsOk());
  EXPECT_EQ(db.QueryInt("SELECT SUM(n) FROM counts"), 93);
  EXPECT_EQ(db.QueryInt("SELECT n FROM counts WHERE kind = 0"), 23);  // 4, 8, ..., 92
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM schema_migrations_chunks"), 0);

  // Chunks are transactions of their own: a migrator that died after the chunks
  // up to 43 left a record of it; the next one does not count them twice.
  TestDatabase resumed("migrate_chunks_resume");
  ConnectionPool pool2(resumed.options());
  ASSERT_THAT(ApplyMigrations(pool2, {}), IsOk());  // the tracking tables
  resumed.Execute("CREATE TABLE events (id INT PRIMARY KEY, kind INT NOT NULL)");
  resumed.Execute("INSERT INTO events VALUES " + values);
  resumed.Execute("CREATE TABLE counts (kind INT PRIMARY KEY, n INT NOT NULL)");
  resumed.Execute(
      "INSERT INTO counts SELECT kind, COUNT(*) FROM events WHERE id < 43 GROUP BY kind");
  resumed.Execute("INSERT INTO schema_migrations_progress VALUES (1, -2)");  // statement 1 begun
  resumed.Execute("INSERT INTO schema_migrations_chunks VALUES (1, 1, 43)");
  ASSERT_THAT(ApplyMigrations(pool2, backfill), IsOk());
  EXPECT_EQ(resumed.QueryInt("SELECT SUM(n) FROM counts"), 93);
  EXPECT_EQ(resumed.QueryInt("SELECT n FROM counts WHERE kind = 0"), 23);
}

// The lock is a lease: one whose holder died is taken over once it runs out; a
// live one makes a second migrator wait, then give up with UNAVAILABLE.
TEST(ApplyMigrationsTest, TheMigrationLockIsALease) {
  TestDatabase db("migrate_lease");
  ConnectionPool pool(db.options());
  ASSERT_THAT(ApplyMigrations(pool, {}), IsOk());
  db.Execute(
      "UPDATE schema_migrations_lock SET holder = 'dead', expires_at = NOW(6) - INTERVAL 1 SECOND");
  ASSERT_THAT(ApplyMigrations(pool, ThreeMigrations()), IsOk());
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM schema_migrations_lock WHERE holder IS NULL"), 1);

  db.Execute(
      "UPDATE schema_migrations_lock SET holder = 'alive', expires_at = NOW(6) + INTERVAL 1 HOUR");
  MigrationOptions impatient;
  impatient.max_wait = absl::Milliseconds(300);
  EXPECT_THAT(ApplyMigrations(pool, ThreeMigrations(), "schema_migrations", impatient),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("migration lock")));
  // The refusal names the holder, so an operator knows whom the start waited for.
  EXPECT_THAT(ApplyMigrations(pool, ThreeMigrations(), "schema_migrations", impatient),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("held by alive for ")));
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM schema_migrations_lock WHERE holder = 'alive'"), 1);
}

}  // namespace
}  // namespace funnel::common
