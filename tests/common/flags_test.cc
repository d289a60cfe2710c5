#include "common/flags.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, flags_test_from_env, "default", "set by the environment in the test");
ABSL_FLAG(int, flags_test_overridden, 1, "set by both; the command line wins");

namespace funnel::common {
namespace {

TEST(ParseFlagsTest, EnvironmentSetsFlagsAndCommandLineWins) {
  setenv("FUNNEL_FLAGS_TEST_FROM_ENV", "from-env", 1);
  setenv("FUNNEL_FLAGS_TEST_OVERRIDDEN", "2", 1);
  char arg0[] = "flags_test";
  char arg1[] = "--flags_test_overridden=3";
  char arg2[] = "positional";
  char* argv[] = {arg0, arg1, arg2};
  std::vector<std::string> rest = ParseFlags(3, argv, "test");
  EXPECT_EQ(absl::GetFlag(FLAGS_flags_test_from_env), "from-env");
  EXPECT_EQ(absl::GetFlag(FLAGS_flags_test_overridden), 3);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[1], "positional");
}

}  // namespace
}  // namespace funnel::common
