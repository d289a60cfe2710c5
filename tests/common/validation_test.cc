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

}  // namespace
}  // namespace funnel::common
