#pragma once

// The gateway's one admission rule, used by the forwarding proxy and by the
// gateway's own FunnelService alike: a call needs a known API key and the policy's
// leave for its method; what it sends on carries the verified principal and the
// internal credential instead of the key.

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>

#include <string>

#include "absl/status/statusor.h"
#include "gateway/auth.h"

namespace funnel::gateway {

class Gatekeeper final {
 public:
  Gatekeeper(const KeyStore* keys, const Policy* policy, std::string internal_secret)
      : keys_(keys), policy_(policy), internal_secret_(std::move(internal_secret)) {}

  // UNAUTHENTICATED without a known key; PERMISSION_DENIED when the policy does
  // not let the key's role call `method` ("/pkg.Service/Method").
  absl::StatusOr<Principal> Admit(const grpc::ServerContextBase& context,
                                  absl::string_view method) const;

  // Adds the principal headers and the internal credential to a backend call.
  void Stamp(const Principal& principal, grpc::ClientContext* backend) const;

 private:
  const KeyStore* const keys_;
  const Policy* const policy_;
  const std::string internal_secret_;
};

}  // namespace funnel::gateway
