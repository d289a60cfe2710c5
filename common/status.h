#pragma once

// absl::Status helpers and the one mapping between absl::Status and grpc::Status.
//
// absl::StatusCode values equal google.rpc.Code values, which gRPC uses too, so the
// mapping is a cast plus the message. Every handler in Funnel converts through
// ToGrpcStatus; nothing else builds a grpc::Status from a domain error.

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "funnel/errors/v1/error_reason.pb.h"

namespace funnel::common {

// Converts an absl::Status to the grpc::Status a client sees: same code, the message
// cut to kMaxStatusMessageBytes (common/limits.h) so that no value echoed into it can
// make the trailers too big for the next hop, and AIP-193 details a program can act
// on (google.rpc.Status in grpc-status-details-bin): an ErrorInfo on every error
// (domain kErrorDomain; reason the ErrorReason WithReason gave, else the code's
// default reason: FIELD_INVALID, RESOURCE_NOT_FOUND, ..., else the code's name); on
// INVALID_ARGUMENT a BadRequest with every field violation (FieldViolations), or
// the field the message starts with ("field: why"); on FAILED_PRECONDITION a
// PreconditionFailure; on RESOURCE_EXHAUSTED and ABORTED a RetryInfo
// (SetRetryAfter's wait, else 1 s and 100 ms).
grpc::Status ToGrpcStatus(const absl::Status& status);

inline constexpr char kErrorDomain[] = "funnel.dev";
inline constexpr char kReasonPayload[] = "type.funnel.dev/reason";
inline constexpr char kBadRequestPayload[] = "type.googleapis.com/google.rpc.BadRequest";
// `status` with a stable reason for its ErrorInfo (protos/funnel/errors/v1): what
// a program switches on, where the message is for people.
absl::Status WithReason(absl::Status status, errors::v1::ErrorReason reason);
// The reason a client will see for `status`.
std::string ReasonOf(const absl::Status& status);

// The field a message names first ("contact.email: not valid" names
// "contact.email"), or "".
std::string FieldOf(absl::string_view message);

// The same bound on a status received from elsewhere and passed on (the gateway).
grpc::Status BoundedGrpcStatus(const grpc::Status& status);

// `message` cut to at most `limit` bytes at a UTF-8 character boundary, marked as
// cut when it was.
std::string TruncateMessage(absl::string_view message, size_t limit);

// "OK", "INVALID_ARGUMENT", ...: a code as gRPC and logs spell it ("CODE_n" for a
// number outside the known codes). An int, not grpc::StatusCode: a code off the wire
// may lie outside that enum's range, where converting to it is undefined.
std::string StatusCodeName(int code);

// Converts a grpc::Status received from an upstream service into an absl::Status
// with the same code and message.
absl::Status FromGrpcStatus(const grpc::Status& status);

// How long a caller should wait before retrying a call refused with `status`
// (RESOURCE_EXHAUSTED over a limit), carried as a payload of the status; callers see
// it as the "x-funnel-retry-after-ms" trailer.
inline constexpr char kRetryAfterPayload[] = "type.funnel.dev/retry-after-ms";
inline constexpr char kRetryAfterTrailer[] = "x-funnel-retry-after-ms";
void SetRetryAfter(absl::Status& status, absl::Duration wait);
// The wait SetRetryAfter put on `status`, in milliseconds; -1 when none.
int64_t RetryAfterMs(const absl::Status& status);

}  // namespace funnel::common

#define FUNNEL_STATUS_CONCAT_INNER_(x, y) x##y
#define FUNNEL_STATUS_CONCAT_(x, y) FUNNEL_STATUS_CONCAT_INNER_(x, y)

// Returns `expr`'s status from the enclosing function if it is not OK.
#define RETURN_IF_ERROR(expr) \
  FUNNEL_RETURN_IF_ERROR_IMPL_(FUNNEL_STATUS_CONCAT_(funnel_status_, __LINE__), expr)

// A name of its own per line, so a RETURN_IF_ERROR in a lambda inside another one
// does not shadow the outer status.
#define FUNNEL_RETURN_IF_ERROR_IMPL_(status, expr) \
  do {                                             \
    const ::absl::Status status = (expr);          \
    if (!status.ok()) return status;               \
  } while (0)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status from the
// enclosing function, otherwise moves the value into `lhs` (a declaration or an
// existing variable).
//   ASSIGN_OR_RETURN(Lead lead, store.FindLead(id));
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  FUNNEL_ASSIGN_OR_RETURN_IMPL_(FUNNEL_STATUS_CONCAT_(funnel_statusor_, __LINE__), lhs, rexpr)

#define FUNNEL_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                  \
  if (!statusor.ok()) return statusor.status();             \
  lhs = std::move(statusor).value()

// Like RETURN_IF_ERROR, for functions that return grpc::Status (handlers).
#define RETURN_IF_ERROR_GRPC(expr) \
  FUNNEL_RETURN_IF_ERROR_GRPC_IMPL_(FUNNEL_STATUS_CONCAT_(funnel_status_, __LINE__), expr)

#define FUNNEL_RETURN_IF_ERROR_GRPC_IMPL_(status, expr)              \
  do {                                                               \
    const ::absl::Status status = (expr);                            \
    if (!status.ok()) return ::funnel::common::ToGrpcStatus(status); \
  } while (0)

// Like ASSIGN_OR_RETURN, for functions that return grpc::Status (handlers).
#define ASSIGN_OR_RETURN_GRPC(lhs, rexpr) \
  FUNNEL_ASSIGN_OR_RETURN_GRPC_IMPL_(FUNNEL_STATUS_CONCAT_(funnel_statusor_, __LINE__), lhs, rexpr)

#define FUNNEL_ASSIGN_OR_RETURN_GRPC_IMPL_(statusor, lhs, rexpr)                \
  auto statusor = (rexpr);                                                      \
  if (!statusor.ok()) return ::funnel::common::ToGrpcStatus(statusor.status()); \
  lhs = std::move(statusor).value()
