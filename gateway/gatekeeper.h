#pragma once

// The gateway's one admission rule, used by the forwarding proxy and by the
// gateway's own FunnelService alike: a call needs metadata within the door's limit,
// a known API key, the policy's leave for its method and room under its caller's
// limits; what it sends on carries only the allow-listed caller headers (the
// request id), the verified principal and the internal credential, never the key.

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/auth.h"
#include "gateway/caller_limits.h"

namespace funnel::gateway {

// An admitted call: who makes it, and its place under the caller's in-flight limit
// (held until the call is over).
struct Admission {
  Principal principal;
  CallPermit permit;
};

// What a caller sent, as HTTP/2 headers (lower-case names, pseudo-headers included
// or not): the door reads nothing else, so it can admit a call before any message.
using CallerHeaders = std::vector<std::pair<absl::string_view, absl::string_view>>;

// Metadata that belongs to the transport (pseudo-headers, grpc-*, content-type, te,
// user-agent, host): never a caller's to set, never counted against its limit.
bool IsTransportHeader(absl::string_view key);

class Gatekeeper final {
 public:
  Gatekeeper(const KeyStore* keys, const Policy* policy, std::string internal_secret)
      : keys_(keys), policy_(policy), internal_secret_(std::move(internal_secret)) {}

  // INVALID_ARGUMENT when the caller's metadata exceeds kMaxCallerMetadataBytes;
  // UNAUTHENTICATED without a known key; PERMISSION_DENIED when the policy does not
  // let the key's role call `method` ("/pkg.Service/Method"); RESOURCE_EXHAUSTED
  // (with a retry hint, see Refusal) over the caller's limits. Each refusal counts
  // into funnel_gateway_refusals_total by reason.
  absl::StatusOr<Admission> Admit(const grpc::ServerContextBase& context,
                                  absl::string_view method) const;
  absl::StatusOr<Admission> Admit(const CallerHeaders& headers, absl::string_view method) const;

  // The principal id the key of a call names, or "unauthenticated": what the
  // request log writes for the call.
  std::string CallerOf(const grpc::ServerContextBase& context) const;

  // Adds the allow-listed caller headers of `caller`, the principal headers and the
  // internal credential to a backend call.
  void Stamp(const grpc::ServerContextBase& caller, const Principal& principal,
             grpc::ClientContext* backend) const;
  // The same headers as name-value pairs, given the call's (well-formed) request id.
  std::vector<std::pair<std::string, std::string>> StampHeaders(absl::string_view request_id,
                                                                const Principal& principal) const;

 private:
  absl::StatusOr<Admission> AdmitUncounted(const CallerHeaders& headers,
                                           absl::string_view method) const;

  const KeyStore* const keys_;
  const Policy* const policy_;
  const std::string internal_secret_;
  mutable CallerLimiter limiter_;
};

// The status a refused call is answered with; a retry hint becomes the
// kRetryAfterTrailer trailer on `context`.
grpc::Status Refusal(const absl::Status& status, grpc::ServerContextBase* context);

}  // namespace funnel::gateway
