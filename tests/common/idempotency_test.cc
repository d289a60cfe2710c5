#include "common/mysql/idempotency.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "common/testing/status_matchers.h"
#include "tests/testing/harness.h"

namespace funnel::common {
namespace {

using ::funnel::testing::IsOk;

// Keys live for the retention window; older ones are purged, newer ones replay.
TEST(RequestIdRetentionTest, KeysOlderThanTheWindowArePurgedOthersKept) {
  funnel::testing::TestDatabase db("retention");
  db.Execute(R"sql(CREATE TABLE idempotency_keys (
    method VARCHAR(100) NOT NULL, request_id VARCHAR(200) NOT NULL, response MEDIUMBLOB NULL,
    created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (method, request_id), KEY idempotency_age (created_at)))sql");
  db.Execute(
      "INSERT INTO idempotency_keys (method, request_id, created_at) VALUES "
      "('CaptureLead', 'old-1', NOW(6) - INTERVAL 8 DAY), "
      "('CaptureLead', 'old-2', NOW(6) - INTERVAL 9 DAY), "
      "('CaptureLead', 'fresh', NOW(6) - INTERVAL 1 DAY)");
  ConnectionPool pool(db.options());
  absl::StatusOr<int64_t> purged = PurgeRequestIds(pool, absl::Now() - absl::Hours(7 * 24), 1);
  ASSERT_THAT(purged, IsOk());
  EXPECT_EQ(*purged, 1);  // at most `limit` at a time
  purged = PurgeRequestIds(pool, absl::Now() - absl::Hours(7 * 24));
  ASSERT_THAT(purged, IsOk());
  EXPECT_EQ(*purged, 1);
  EXPECT_THAT(db.QueryStrings("SELECT request_id FROM idempotency_keys"),
              ::testing::ElementsAre("fresh"));
}

}  // namespace
}  // namespace funnel::common
