#include "common/status.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/limits.h"

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

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      TruncateMessage(status.message(), kMaxStatusMessageBytes));
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
