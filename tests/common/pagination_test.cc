// Page tokens: opaque to callers, exact for the listing that made them.
#include "common/pagination.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace funnel::common {
namespace {

using ::funnel::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A part holding the separator once made a token its own listing refused as
// malformed (found by page_token_fuzzer).
TEST(PageTokenTest, EveryKeyRoundTripsSeparatorsAndEscapesIncluded) {
  const std::vector<std::string> key = {"a|b", "|7f", std::string("\x81\x00z", 3), ""};
  auto decoded = DecodePageToken("leads|hot", EncodePageToken("leads|hot", key), key.size());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, key);
}

TEST(PageTokenTest, ATokenOfAnotherListingOrShapeIsRefusedNamingPageToken) {
  const std::string token = EncodePageToken("leads", {"42"});
  EXPECT_EQ(*DecodeIdToken("leads", token), 42);
  EXPECT_THAT(DecodePageToken("campaigns", token, 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token: ")));
  EXPECT_THAT(DecodePageToken("leads", token, 2),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token: malformed")));
  EXPECT_THAT(DecodePageToken("leads", "%%%", 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token: malformed")));
  EXPECT_THAT(*DecodePageToken("leads", "", 1), ElementsAre());
}

}  // namespace
}  // namespace funnel::common
