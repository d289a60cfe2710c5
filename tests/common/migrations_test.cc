#include "common/mysql/migrations.h"

#include <gtest/gtest.h>

#include <thread>

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

}  // namespace
}  // namespace funnel::common
