#include "common/field_violations.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/status.h"
#include "google/rpc/status.pb.h"

namespace funnel::common {
namespace {

using ::testing::ElementsAre;

// The field violations a client decodes from the status's BadRequest.
std::vector<std::string> FieldsSent(const absl::Status& status) {
  google::rpc::Status details;
  EXPECT_TRUE(details.ParseFromString(ToGrpcStatus(status).error_details()));
  std::vector<std::string> fields;
  for (const auto& any : details.details()) {
    google::rpc::BadRequest bad;
    if (!any.UnpackTo(&bad)) continue;
    for (const auto& v : bad.field_violations()) fields.push_back(v.field());
  }
  return fields;
}

TEST(FieldViolationsTest, NothingKeptIsOk) {
  FieldViolations v;
  v.Check(absl::OkStatus());
  EXPECT_TRUE(v.empty());
  EXPECT_TRUE(v.status().ok());
}

TEST(FieldViolationsTest, EveryBadFieldIsNamedInOrder) {
  FieldViolations v;
  v.Check(absl::InvalidArgumentError("contact.email: not a valid address"));
  v.Check(absl::OkStatus());
  v.Add("campaign_id", "must not be negative");
  const absl::Status status = v.status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "contact.email: not a valid address; campaign_id: must not be negative");
  EXPECT_THAT(FieldsSent(status), ElementsAre("contact.email", "campaign_id"));
}

TEST(FieldViolationsTest, ViolationsOfANestedCheckAreKeptOneByOne) {
  FieldViolations inner;
  inner.Add("budget.amount_minor", "must not be negative");
  inner.Add("budget.currency_code", "must be an ISO 4217 code such as USD");
  FieldViolations outer;
  outer.Add("name", "required");
  outer.Check(inner.status());
  EXPECT_THAT(FieldsSent(outer.status()),
              ElementsAre("name", "budget.amount_minor", "budget.currency_code"));
}

TEST(FieldViolationsTest, AnErrorThatIsNotAboutAFieldWins) {
  FieldViolations v;
  v.Add("name", "required");
  v.Check(absl::PermissionDeniedError("role X may not"));
  v.Check(absl::NotFoundError("later"));
  EXPECT_EQ(v.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(v.status().message(), "role X may not");
}

TEST(FieldViolationsTest, AReasonGivenOnPurposeSurvives) {
  FieldViolations v;
  v.Check(
      WithReason(absl::InvalidArgumentError("request_id: reused"), errors::v1::REQUEST_ID_REUSED));
  EXPECT_EQ(ReasonOf(v.status()), "REQUEST_ID_REUSED");
  FieldViolations plain;
  plain.Add("name", "required");
  EXPECT_EQ(ReasonOf(plain.status()), "FIELD_INVALID");
}

TEST(FieldViolationsTest, ManyViolationsAreBoundedForTheTrailers) {
  FieldViolations v;
  const std::string huge(10'000, 'x');
  for (int i = 0; i < 1000; ++i) v.Add(huge, huge);
  const absl::Status status = v.status();
  EXPECT_EQ(FieldsSent(status).size(), static_cast<size_t>(kMaxFieldViolations));
  EXPECT_THAT(std::string(status.message()), ::testing::EndsWith("; and 990 more"));
  EXPECT_LT(ToGrpcStatus(status).error_details().size(), 4096u);
}

}  // namespace
}  // namespace funnel::common
