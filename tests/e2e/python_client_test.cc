// examples/python, the second-language client, plays the whole story through a
// real gateway and both services.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/testing/stack.h"

namespace funnel {
namespace {

using ::testing::HasSubstr;

TEST(PythonClientTest, TheStoryRunsThroughTheGateway) {
  testing::FunnelStack stack("python");
  const testing::CommandResult run = testing::RunCommand(absl::StrCat(
      "FUNNEL_GATEWAY=127.0.0.1:", stack.gateway_port(),
      " FUNNEL_MARKETING_KEY=", stack.Key("MARKETING"), " FUNNEL_ADMIN_KEY=", stack.Key("ADMIN"),
      " FUNNEL_PYTHON_STUBS=", FUNNEL_PYTHON_STUBS_DIR, " /usr/bin/python3 ",
      FUNNEL_SOURCE_DIR_PATH, "/examples/python/funnel_story.py"));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("bad capture refused: INVALID_ARGUMENT: contact.email"));
  EXPECT_THAT(run.output, HasSubstr("reason FIELD_INVALID (domain funnel.dev)"));
  EXPECT_THAT(run.output, HasSubstr("field contact.email: not a valid address"));
  EXPECT_THAT(run.output, HasSubstr("field campaign_id: must not be negative"));
  EXPECT_THAT(run.output, HasSubstr("the retry replayed it"));
  EXPECT_THAT(run.output,
              HasSubstr("campaign revenue (ATTRIBUTION_MODEL_FIRST_TOUCH): 12345.00 USD"));
  EXPECT_THAT(run.output, HasSubstr("story complete"));
}

}  // namespace
}  // namespace funnel
