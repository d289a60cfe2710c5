#include "common/request_id.h"

#include <gtest/gtest.h>

#include <string>

namespace funnel::common {
namespace {

TEST(RequestIdTest, WellFormedIsShortAndPlain) {
  EXPECT_TRUE(IsWellFormedRequestId("3f2b8c1e-0d4a-4b6e-9c1f-2a7d5e8b9c0d"));
  EXPECT_TRUE(IsWellFormedRequestId("client.job-7:retry_2"));
  EXPECT_TRUE(IsWellFormedRequestId(NewRequestId()));
  EXPECT_FALSE(IsWellFormedRequestId(""));
  EXPECT_FALSE(IsWellFormedRequestId("has space"));
  EXPECT_FALSE(IsWellFormedRequestId("quote\""));
  EXPECT_FALSE(IsWellFormedRequestId("line\nbreak"));
  EXPECT_FALSE(IsWellFormedRequestId(std::string(kMaxRequestIdBytes + 1, 'a')));
  EXPECT_TRUE(IsWellFormedRequestId(std::string(kMaxRequestIdBytes, 'a')));
  EXPECT_NE(NewRequestId(), NewRequestId());
}

TEST(RequestIdTest, AScopeSetsTheThreadsIdAndRestoresThePrevious) {
  EXPECT_EQ(CurrentRequestId(), "");
  {
    const RequestIdScope outer("outer");
    EXPECT_EQ(CurrentRequestId(), "outer");
    {
      const RequestIdScope inner("inner");
      EXPECT_EQ(CurrentRequestId(), "inner");
    }
    EXPECT_EQ(CurrentRequestId(), "outer");
  }
  EXPECT_EQ(CurrentRequestId(), "");
}

}  // namespace
}  // namespace funnel::common
