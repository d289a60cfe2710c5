#include "gateway/gatekeeper.h"

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

// Refuses, for this call alone, metadata that would not fit the next hop.
absl::Status CheckMetadataSize(const grpc::ServerContextBase& context) {
  size_t total = 0;
  for (const auto& [key, value] : context.client_metadata()) {
    total += common::HeaderEntrySize(key.size(), value.size());
  }
  if (total <= common::kMaxCallerMetadataBytes) return absl::OkStatus();
  return common::WithReason(absl::InvalidArgumentError(absl::StrCat(
                                "metadata: ", total, " bytes; the gateway accepts at most ",
                                common::kMaxCallerMetadataBytes)),
                            errors::v1::REQUEST_TOO_LARGE);
}

}  // namespace

absl::StatusOr<Admission> Gatekeeper::Admit(const grpc::ServerContextBase& context,
                                            absl::string_view method) const {
  absl::StatusOr<Admission> admitted = AdmitUncounted(context, method);
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

absl::StatusOr<Admission> Gatekeeper::AdmitUncounted(const grpc::ServerContextBase& context,
                                                     absl::string_view method) const {
  RETURN_IF_ERROR(CheckMetadataSize(context));
  ASSIGN_OR_RETURN(Principal principal, keys_->Authenticate(AuthorizationOf(context)));
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
  // The allow-list: what services read from a caller. The request log made sure
  // there is exactly one well-formed request id. Deadlines travel on their own.
  const auto& md = caller.client_metadata();
  if (auto it = md.find(common::kRequestIdHeader);
      it != md.end() && common::IsWellFormedRequestId(View(it->second))) {
    backend->AddMetadata(common::kRequestIdHeader, std::string(View(it->second)));
  }
  backend->AddMetadata(common::kPrincipalIdHeader, principal.id);
  backend->AddMetadata(common::kRoleHeader, principal.role);
  if (principal.rep_id != 0)
    backend->AddMetadata(common::kRepIdHeader, absl::StrCat(principal.rep_id));
  if (!internal_secret_.empty()) backend->AddMetadata(common::kInternalHeader, internal_secret_);
}

grpc::Status Refusal(const absl::Status& status, grpc::ServerContextBase* context) {
  if (const int64_t ms = common::RetryAfterMs(status); ms >= 0) {
    context->AddTrailingMetadata(common::kRetryAfterTrailer, absl::StrCat(ms));
  }
  return common::ToGrpcStatus(status);
}

}  // namespace funnel::gateway
