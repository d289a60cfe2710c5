#include "common/status.h"

#include <gtest/gtest.h>

#include "common/limits.h"
#include "common/testing/status_matchers.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace funnel::common {
namespace {

using ::funnel::testing::IsOk;
using ::funnel::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ToGrpcStatusTest, KeepsEveryCodeAndMessage) {
  for (int code = 1; code <= 16; ++code) {
    absl::Status status(static_cast<absl::StatusCode>(code), "email: not a valid address");
    grpc::Status mapped = ToGrpcStatus(status);
    EXPECT_EQ(static_cast<int>(mapped.error_code()), code);
    EXPECT_EQ(mapped.error_message(), "email: not a valid address");
    EXPECT_EQ(FromGrpcStatus(mapped), status);
  }
}

TEST(ToGrpcStatusTest, AnEchoedValueCannotMakeTheMessageBig) {
  const std::string path(100000, 'p');
  grpc::Status mapped =
      ToGrpcStatus(absl::InvalidArgumentError("update_mask: " + path + " cannot be updated"));
  EXPECT_LE(mapped.error_message().size(), kMaxStatusMessageBytes);
  EXPECT_EQ(mapped.error_message().rfind("update_mask: ppp", 0), 0u);
  EXPECT_THAT(mapped.error_message(), HasSubstr("(truncated)"));
  grpc::Status passed_on = BoundedGrpcStatus(grpc::Status(grpc::StatusCode::NOT_FOUND, path));
  EXPECT_EQ(passed_on.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_LE(passed_on.error_message().size(), kMaxStatusMessageBytes);
}

TEST(ToGrpcStatusTest, TruncationNeverSplitsACharacter) {
  // "é" is two bytes: wherever the cut falls, what is left is whole characters.
  std::string text;
  for (int i = 0; i < 40; ++i) text += "\xc3\xa9";
  for (size_t limit = 16; limit < 40; ++limit) {
    const std::string cut = TruncateMessage(text, limit);
    EXPECT_LE(cut.size(), limit);
    const size_t body = cut.size() - std::string("... (truncated)").size();
    EXPECT_EQ(body % 2, 0u) << limit;
  }
  EXPECT_EQ(TruncateMessage("short", 16), "short");
}

TEST(ToGrpcStatusTest, ARetryHintRidesOnTheStatus) {
  absl::Status status = absl::ResourceExhaustedError("slow down");
  EXPECT_EQ(RetryAfterMs(status), -1);
  SetRetryAfter(status, absl::Milliseconds(250));
  EXPECT_EQ(RetryAfterMs(status), 250);
}

TEST(StatusCodeNameTest, SpellsEveryCodeAsGrpcDoes) {
  EXPECT_EQ(StatusCodeName(grpc::StatusCode::OK), "OK");
  EXPECT_EQ(StatusCodeName(grpc::StatusCode::RESOURCE_EXHAUSTED), "RESOURCE_EXHAUSTED");
  EXPECT_EQ(StatusCodeName(grpc::StatusCode::UNAUTHENTICATED), "UNAUTHENTICATED");
  EXPECT_EQ(StatusCodeName(42), "CODE_42");
}

TEST(ToGrpcStatusTest, OkIsOk) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

absl::StatusOr<int> Half(int n) {
  if (n % 2 != 0) return absl::InvalidArgumentError("n: must be even");
  return n / 2;
}

absl::StatusOr<int> Quarter(int n) {
  ASSIGN_OR_RETURN(int half, Half(n));
  ASSIGN_OR_RETURN(half, Half(half));  // assigns an existing variable too
  return half;
}

absl::Status CheckEven(int n) {
  RETURN_IF_ERROR(Half(n).status());
  return absl::OkStatus();
}

grpc::Status Handler(int n, int* out) {
  ASSIGN_OR_RETURN_GRPC(*out, Quarter(n));
  RETURN_IF_ERROR_GRPC(CheckEven(*out));
  return grpc::Status::OK;
}

TEST(StatusMacrosTest, PropagateErrorsAndValues) {
  EXPECT_THAT(Quarter(8), IsOk());
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_THAT(Quarter(6), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("n:")));
  EXPECT_THAT(CheckEven(3), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckEven(4), IsOk());
}

TEST(StatusMacrosTest, GrpcVariantsMapOnce) {
  int out = 0;
  EXPECT_TRUE(Handler(16, &out).ok());
  EXPECT_EQ(out, 4);
  grpc::Status failed = Handler(6, &out);
  EXPECT_EQ(failed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(failed.error_message(), "n: must be even");
  // Quarter(12) = 3 passes the first step and fails the second.
  EXPECT_EQ(Handler(12, &out).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// The details of a status as a client decodes them from grpc-status-details-bin.
google::rpc::Status DetailsOf(const grpc::Status& status) {
  google::rpc::Status details;
  EXPECT_TRUE(details.ParseFromString(status.error_details()));
  return details;
}

template <typename Detail>
std::vector<Detail> Unpacked(const google::rpc::Status& details) {
  std::vector<Detail> out;
  for (const auto& any : details.details()) {
    Detail d;
    if (any.UnpackTo(&d)) out.push_back(d);
  }
  return out;
}

TEST(ErrorDetailsTest, InvalidArgumentCarriesErrorInfoAndTheFieldViolation) {
  const grpc::Status status =
      ToGrpcStatus(absl::InvalidArgumentError("contact.email: not a valid address"));
  const google::rpc::Status details = DetailsOf(status);
  EXPECT_EQ(details.code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(details.message(), "contact.email: not a valid address");
  auto info = Unpacked<google::rpc::ErrorInfo>(details);
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].reason(), "FIELD_INVALID");
  EXPECT_EQ(info[0].domain(), kErrorDomain);
  auto bad = Unpacked<google::rpc::BadRequest>(details);
  ASSERT_EQ(bad.size(), 1u);
  ASSERT_EQ(bad[0].field_violations_size(), 1);
  EXPECT_EQ(bad[0].field_violations(0).field(), "contact.email");
  EXPECT_EQ(bad[0].field_violations(0).description(), "not a valid address");
}

TEST(ErrorDetailsTest, AReasonGivenOnPurposeIsTheErrorInfoReason) {
  const google::rpc::Status details = DetailsOf(ToGrpcStatus(
      WithReason(absl::FailedPreconditionError("lead: opted out"), errors::v1::OPTED_OUT)));
  EXPECT_EQ(Unpacked<google::rpc::ErrorInfo>(details)[0].reason(), "OPTED_OUT");
  auto failure = Unpacked<google::rpc::PreconditionFailure>(details);
  ASSERT_EQ(failure.size(), 1u);
  EXPECT_EQ(failure[0].violations(0).type(), "OPTED_OUT");
  EXPECT_EQ(failure[0].violations(0).subject(), "lead");
}

TEST(ErrorDetailsTest, RetryableErrorsSayWhenToRetry) {
  absl::Status limited = absl::ResourceExhaustedError("caller x is over its limit");
  SetRetryAfter(limited, absl::Milliseconds(1500));
  auto retry = Unpacked<google::rpc::RetryInfo>(DetailsOf(ToGrpcStatus(limited)));
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(retry[0].retry_delay().seconds(), 1);
  EXPECT_EQ(retry[0].retry_delay().nanos(), 500'000'000);
  EXPECT_EQ(Unpacked<google::rpc::RetryInfo>(
                DetailsOf(ToGrpcStatus(absl::AbortedError("etag: stale"))))[0]
                .retry_delay()
                .nanos(),
            100'000'000);
}

}  // namespace
}  // namespace funnel::common
