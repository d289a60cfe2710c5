#include "gateway/gatekeeper.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/limits.h"
#include "common/metrics.h"
#include "common/request_id.h"
#include "common/server/internal_guard.h"
#include "common/server/principal.h"
#include "common/server/request_log.h"
#include "common/status.h"

namespace funnel::gateway {
namespace {

absl::string_view View(const grpc::string_ref& s) { return absl::string_view(s.data(), s.size()); }

absl::string_view AuthorizationOf(const grpc::ServerContextBase& context) {
  const auto& md = context.client_metadata();
  auto auth = md.find("authorization");
  return auth == md.end() ? absl::string_view() : View(auth->second);
}

absl::string_view AuthorizationOf(const CallerHeaders& headers) {
  for (const auto& [key, value] : headers) {
    if (key == "authorization") return value;
  }
  return absl::string_view();
}

CallerHeaders HeadersOf(const grpc::ServerContextBase& context) {
  CallerHeaders headers;
  headers.reserve(context.client_metadata().size());
  for (const auto& [key, value] : context.client_metadata()) {
    headers.emplace_back(View(key), View(value));
  }
  return headers;
}

// Refuses, for this call alone, metadata that would not fit the next hop.
absl::Status CheckMetadataSize(const CallerHeaders& headers) {
  size_t total = 0;
  for (const auto& [key, value] : headers) {
    // What gRPC itself sends on every call (it never reaches client_metadata).
    if (absl::StartsWith(key, ":") || absl::StartsWith(key, "grpc-") || key == "content-type" ||
        key == "te") {
      continue;
    }
    total += common::HeaderEntrySize(key.size(), value.size());
  }
  if (total <= common::kMaxCallerMetadataBytes) return absl::OkStatus();
  return common::WithReason(absl::InvalidArgumentError(absl::StrCat(
                                "metadata: ", total, " bytes; the gateway accepts at most ",
                                common::kMaxCallerMetadataBytes)),
                            errors::v1::REQUEST_TOO_LARGE);
}

}  // namespace

bool IsTransportHeader(absl::string_view key) {
  return absl::StartsWith(key, ":") || absl::StartsWith(key, "grpc-") || key == "content-type" ||
         key == "te" || key == "user-agent" || key == "host";
}

absl::StatusOr<Admission> Gatekeeper::Admit(const grpc::ServerContextBase& context,
                                            absl::string_view method) const {
  return Admit(HeadersOf(context), method);
}

absl::StatusOr<Admission> Gatekeeper::Admit(const CallerHeaders& headers,
                                            absl::string_view method) const {
  absl::StatusOr<Admission> admitted = AdmitUncounted(headers, method);
  if (!admitted.ok()) {
    static prometheus::Family<prometheus::Counter>& refusals = common::CounterFamily(
        "funnel_gateway_refusals_total", "Calls the gateway refused at the door, by reason.");
    const char* reason = "other";
    switch (admitted.status().code()) {
      case absl::StatusCode::kInvalidArgument:
        reason = "metadata_too_large";
        break;
      case absl::StatusCode::kUnauthenticated:
        reason = "unauthenticated";
        break;
      case absl::StatusCode::kPermissionDenied:
        reason = "permission_denied";
        break;
      case absl::StatusCode::kResourceExhausted:
        reason = "caller_limit";
        break;
      default:
        break;
    }
    refusals.Add({{"reason", reason}}).Increment();
  }
  return admitted;
}

absl::StatusOr<Admission> Gatekeeper::AdmitUncounted(const CallerHeaders& headers,
                                                     absl::string_view method) const {
  RETURN_IF_ERROR(CheckMetadataSize(headers));
  ASSIGN_OR_RETURN(Principal principal, keys_->Authenticate(AuthorizationOf(headers)));
  RETURN_IF_ERROR(policy_->Check(method, principal.role));
  ASSIGN_OR_RETURN(CallPermit permit,
                   limiter_.Acquire(principal.id, policy_->LimitFor(principal.role), absl::Now()));
  return Admission{std::move(principal), std::move(permit)};
}

std::string Gatekeeper::CallerOf(const grpc::ServerContextBase& context) const {
  absl::StatusOr<Principal> principal = keys_->Authenticate(AuthorizationOf(context));
  return principal.ok() ? principal->id : "unauthenticated";
}

void Gatekeeper::Stamp(const grpc::ServerContextBase& caller, const Principal& principal,
                       grpc::ClientContext* backend) const {
  // The request log made sure there is exactly one well-formed request id.
  // Deadlines travel on their own.
  const auto& md = caller.client_metadata();
  absl::string_view request_id;
  if (auto it = md.find(common::kRequestIdHeader); it != md.end()) request_id = View(it->second);
  for (auto& [key, value] : StampHeaders(request_id, principal)) {
    backend->AddMetadata(key, std::move(value));
  }
}

std::vector<std::pair<std::string, std::string>> Gatekeeper::StampHeaders(
    absl::string_view request_id, const Principal& principal) const {
  // The allow-list: what services read from a caller.
  std::vector<std::pair<std::string, std::string>> headers;
  if (common::IsWellFormedRequestId(request_id)) {
    headers.emplace_back(common::kRequestIdHeader, std::string(request_id));
  }
  headers.emplace_back(common::kPrincipalIdHeader, principal.id);
  headers.emplace_back(common::kRoleHeader, principal.role);
  if (principal.rep_id != 0)
    headers.emplace_back(common::kRepIdHeader, absl::StrCat(principal.rep_id));
  if (!internal_secret_.empty()) headers.emplace_back(common::kInternalHeader, internal_secret_);
  return headers;
}

grpc::Status Refusal(const absl::Status& status, grpc::ServerContextBase* context) {
  if (const int64_t ms = common::RetryAfterMs(status); ms >= 0) {
    context->AddTrailingMetadata(common::kRetryAfterTrailer, absl::StrCat(ms));
  }
  return common::ToGrpcStatus(status);
}

}  // namespace funnel::gateway
