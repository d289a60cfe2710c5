#include "common/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace funnel::common {
namespace {

using ::funnel::testing::IsOk;
using ::funnel::testing::StatusIs;
using ::testing::HasSubstr;

TEST(CheckEtagTest, NoEtagOrTheCurrentOnePassesAStaleOneIsAborted) {
  EXPECT_THAT(CheckEtag("", "3", "lead.etag", "lead"), IsOk());
  EXPECT_THAT(CheckEtag("3", "3", "lead.etag", "lead"), IsOk());
  EXPECT_THAT(CheckEtag("2", "3", "lead.etag", "lead"),
              StatusIs(absl::StatusCode::kAborted,
                       HasSubstr("lead.etag: stale (current is 3); read the lead again")));
}

TEST(ValidateMergeIdsTest, SurvivorPositiveDuplicatesBoundedEachOnceNeverTheSurvivor) {
  auto check = [](int64_t survivor, std::vector<int64_t> duplicates) {
    return ValidateMergeIds(survivor, duplicates, 3, "survivor_id", "duplicate_ids");
  };
  EXPECT_THAT(check(1, {2, 3}), IsOk());
  EXPECT_THAT(check(0, {2}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("survivor_id")));
  EXPECT_THAT(check(1, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("duplicate_ids: 1 to 3 ids")));
  EXPECT_THAT(check(1, {2, 3, 4, 5}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("duplicate_ids: 1 to 3 ids")));
  EXPECT_THAT(check(1, {-2}), StatusIs(absl::StatusCode::kInvalidArgument,
                                       HasSubstr("duplicate_ids: each must be positive")));
  EXPECT_THAT(check(1, {2, 1}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1 is the survivor")));
  EXPECT_THAT(check(1, {2, 2}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("2 listed twice")));
}

}  // namespace
}  // namespace funnel::common
