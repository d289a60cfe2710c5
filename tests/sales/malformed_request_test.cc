// Bytes that are not a valid request message (a truncated varint, a length past the
// end, invalid UTF-8 in a string, an unterminated group) are answered
// INVALID_ARGUMENT "request: malformed", never INTERNAL with an empty message, and
// change nothing.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "tests/sales/sales_fixture.h"

namespace funnel::sales {
namespace {

using ::testing::HasSubstr;
using MalformedRequestTest = SalesFixture;

const std::vector<std::pair<const char*, std::string>>& MalformedBodies() {
  static const auto* bodies = new std::vector<std::pair<const char*, std::string>>{
      {"truncated varint", std::string("\x10\xff", 2)},
      {"length past the end", std::string("\x0a\x05\x12\x01", 4)},
      {"invalid UTF-8", std::string("\x0a\x04\x12\x02\xff\xfe", 6)},
      {"unterminated group", std::string("\x0b", 1)},
  };
  return *bodies;
}

TEST_F(MalformedRequestTest, AServiceAnswersInvalidArgumentAndChangesNothing) {
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", host_->port()),
                                     grpc::InsecureChannelCredentials());
  for (const auto& [what, bytes] : MalformedBodies()) {
    for (const char* method :
         {"/funnel.sales.v1.SalesService/CreateAccount", "/funnel.sales.v1.SalesService/GetRep",
          "/funnel.handoff.v1.HandoffInboxService/SubmitLead"}) {
      // GetRep's field 1 is a number: a string there is only an unknown field.
      if (absl::string_view(what) == "invalid UTF-8" && absl::EndsWith(method, "GetRep")) continue;
      const grpc::Status s = funnel::testing::CallRaw(channel, method, bytes);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << what << " " << method;
      EXPECT_THAT(s.error_message(), HasSubstr("request: malformed")) << what << " " << method;
    }
  }
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM accounts"), 0);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM handoffs"), 0);
  // A well-formed call still works.
  v1::CreateAccountRequest good;
  good.mutable_account()->set_name("Acme");
  std::string reply;
  EXPECT_TRUE(funnel::testing::CallRaw(channel, "/funnel.sales.v1.SalesService/CreateAccount",
                                       good.SerializeAsString(), &reply)
                  .ok());
}

}  // namespace
}  // namespace funnel::sales
