#include "common/time_util.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <gtest/gtest.h>

#include <random>

#include "common/mysql/pool.h"
#include "common/mysql/sql_util.h"
#include "common/testing/status_matchers.h"
#include "tests/testing/harness.h"

namespace funnel::common {
namespace {

using ::funnel::testing::IsOk;
using ::funnel::testing::TestDatabase;

// A time written with FROM_UNIXTIME(UnixSecondsOf(t)) and read back with
// TimeFromUnixSeconds(UNIX_TIMESTAMP(...)) is t to the microsecond, every time
// (the server truncates a DOUBLE parameter to microseconds).
TEST(TimeUtilTest, TimesSurviveARoundTripThroughATimestampColumn) {
  TestDatabase db("time_round_trip");
  db.Execute("CREATE TABLE t (id INT PRIMARY KEY, at TIMESTAMP(6) NOT NULL)");
  ConnectionPool pool(db.options());
  std::mt19937_64 rng(7);
  std::vector<absl::Time> times;
  for (int i = 0; i < 400; ++i) {
    times.push_back(absl::FromUnixMicros(1'700'000'000'000'000 +
                                         static_cast<int64_t>(rng() % 400'000'000'000'000)));
  }
  ASSERT_THAT(pool.WithConnection(
                  "t",
                  [&](sql::Connection& conn) {
                    for (size_t i = 0; i < times.size(); ++i) {
                      auto st =
                          Prepare(conn, "INSERT INTO t (id, at) VALUES (?, FROM_UNIXTIME(?))");
                      st->setInt(1, static_cast<int>(i));
                      st->setDouble(2, UnixSecondsOf(times[i]));
                      st->executeUpdate();
                    }
                    auto st = Prepare(conn, "SELECT id, UNIX_TIMESTAMP(at) FROM t ORDER BY id");
                    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
                    while (rs->next()) {
                      EXPECT_EQ(TimeFromUnixSeconds(rs->getDouble(2)), times[rs->getInt(1)])
                          << rs->getInt(1);
                    }
                    return absl::OkStatus();
                  }),
              IsOk());
}

}  // namespace
}  // namespace funnel::common
