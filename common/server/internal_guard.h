#pragma once

// Services accept calls only from the gateway: it adds a shared secret in the
// x-funnel-internal header (and drops any x-funnel-* header a caller sends), so the
// principal headers cannot be forged by calling a service directly. mTLS between
// gateway and services is the production form of the same rule.

#include <grpcpp/server_context.h>

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace funnel::common {

inline constexpr char kInternalHeader[] = "x-funnel-internal";

class InternalGuard final {
 public:
  // An empty secret disables the check (in-process tests); RunDbService refuses to
  // start without one unless told otherwise.
  explicit InternalGuard(std::string secret) : secret_(std::move(secret)) {}

  // UNAUTHENTICATED unless the call carries the secret.
  absl::Status Check(const grpc::ServerContextBase& context) const;
  // The same, then the sizes every request is held to (request_limits.h): what
  // every handler checks first, before any other validation or SQL.
  absl::Status Check(const grpc::ServerContextBase& context,
                     const google::protobuf::Message& request) const;

 private:
  const std::string secret_;
};

// A guard that lets every call in (in-process tests, which have no gateway).
const InternalGuard* OpenGuard();

}  // namespace funnel::common
