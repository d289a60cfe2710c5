#include "common/status.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/limits.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace funnel::common {

std::string TruncateMessage(absl::string_view message, size_t limit) {
  if (message.size() <= limit) return std::string(message);
  constexpr absl::string_view kMark = "... (truncated)";
  size_t cut = limit > kMark.size() ? limit - kMark.size() : 0;
  // Back up over UTF-8 continuation bytes (10xxxxxx) so no character is split.
  while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat(message.substr(0, cut), kMark);
}

std::string StatusCodeName(int code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  return code >= 0 && code <= 16 ? kNames[code] : absl::StrCat("CODE_", code);
}

std::string FieldOf(absl::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos || colon == 0) return "";
  const absl::string_view field = message.substr(0, colon);
  for (char c : field) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_' && c != '.' && c != '[' &&
        c != ']') {
      return "";
    }
  }
  return std::string(field);
}

namespace {

void SetDuration(int64_t ms, google::protobuf::Duration* d) {
  d->set_seconds(ms / 1000);
  d->set_nanos(static_cast<int32_t>((ms % 1000) * 1'000'000));
}

}  // namespace

absl::Status WithReason(absl::Status status, errors::v1::ErrorReason reason) {
  status.SetPayload(kReasonPayload, absl::Cord(errors::v1::ErrorReason_Name(reason)));
  return status;
}

std::string ReasonOf(const absl::Status& status) {
  if (const auto reason = status.GetPayload(kReasonPayload)) return std::string(*reason);
  using errors::v1::ErrorReason;
  ErrorReason fallback = errors::v1::ERROR_REASON_UNSPECIFIED;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      fallback = errors::v1::FIELD_INVALID;
      break;
    case absl::StatusCode::kNotFound:
      fallback = errors::v1::RESOURCE_NOT_FOUND;
      break;
    case absl::StatusCode::kAlreadyExists:
      fallback = errors::v1::RESOURCE_EXISTS;
      break;
    case absl::StatusCode::kAborted:
      fallback = errors::v1::CONCURRENT_CHANGE;
      break;
    default:
      // FAILED_PRECONDITION, PERMISSION_DENIED, ... are raised with their own
      // reason; what is left was nobody's purpose (UNAVAILABLE, INTERNAL).
      return StatusCodeName(static_cast<int>(status.code()));
  }
  return errors::v1::ErrorReason_Name(fallback);
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const std::string message = TruncateMessage(status.message(), kMaxStatusMessageBytes);
  google::rpc::Status details;
  details.set_code(static_cast<int>(status.code()));
  details.set_message(message);
  google::rpc::ErrorInfo info;
  info.set_reason(ReasonOf(status));
  info.set_domain(kErrorDomain);
  details.add_details()->PackFrom(info);
  const std::string field = FieldOf(message);
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument: {
      google::rpc::BadRequest bad;
      const auto violations = status.GetPayload(kBadRequestPayload);
      if (violations && bad.ParseFromString(std::string(*violations))) {
        details.add_details()->PackFrom(bad);
      } else if (!field.empty()) {
        google::rpc::BadRequest::FieldViolation* v = bad.add_field_violations();
        v->set_field(field);
        v->set_description(message.substr(field.size() + 2));
        details.add_details()->PackFrom(bad);
      }
      break;
    }
    case absl::StatusCode::kFailedPrecondition: {
      google::rpc::PreconditionFailure failure;
      google::rpc::PreconditionFailure::Violation* v = failure.add_violations();
      v->set_type(info.reason());
      v->set_subject(field);
      v->set_description(message);
      details.add_details()->PackFrom(failure);
      break;
    }
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted: {
      int64_t ms = RetryAfterMs(status);
      if (ms < 0) ms = status.code() == absl::StatusCode::kAborted ? 100 : 1000;
      google::rpc::RetryInfo retry;
      SetDuration(ms, retry.mutable_retry_delay());
      details.add_details()->PackFrom(retry);
      break;
    }
    default:
      break;
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message,
                      details.SerializeAsString());
}

grpc::Status BoundedGrpcStatus(const grpc::Status& status) {
  if (status.ok() || status.error_message().size() <= kMaxStatusMessageBytes) return status;
  return grpc::Status(status.error_code(),
                      TruncateMessage(status.error_message(), kMaxStatusMessageBytes),
                      status.error_details());
}

void SetRetryAfter(absl::Status& status, absl::Duration wait) {
  status.SetPayload(kRetryAfterPayload, absl::Cord(absl::StrCat(absl::ToInt64Milliseconds(wait))));
}

int64_t RetryAfterMs(const absl::Status& status) {
  const auto payload = status.GetPayload(kRetryAfterPayload);
  int64_t ms = -1;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &ms)) return -1;
  return ms;
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace funnel::common
