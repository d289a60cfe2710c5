#pragma once

// A service's only way to its stores. A handler reaches them through
// Gate::Admit, which lets a call in only when it carries the gateway's credential
// (internal_guard.h) and the request keeps to the sizes every request is held to
// (request_limits.h). The stores are members of the gate, not of the service, so a
// handler that skipped the check has nothing to work with; what it is let in with
// also carries the caller, read once from the gateway's stamps.
//
// Example:
//   ASSIGN_OR_RETURN_GRPC(const auto call, gate_.Admit(*ctx, *req));
//   ASSIGN_OR_RETURN_GRPC(*resp, call->leads->Erase(req->lead_id(), call.KeyOf(*req),
//                                                   call.actor(), absl::Now()));

#include <grpcpp/server_context.h>

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "common/request_key.h"
#include "common/server/internal_guard.h"
#include "common/server/principal.h"
#include "common/status.h"
#include "google/protobuf/message.h"

namespace funnel::common {

template <typename Stores>
class Gate;

// A call the gate let in: the stores to serve it with, and who made it.
template <typename Stores>
class Admitted final {
 public:
  const Stores* operator->() const { return stores_; }
  const Principal& principal() const { return principal_; }
  // The verified principal's id ("anonymous" without one), as histories name it.
  const std::string& actor() const { return principal_.id; }
  // The idempotency key of `request` (its request_id), scoped to this caller.
  RequestKey KeyOf(const google::protobuf::Message& request) const {
    return common::KeyOf(*context_, request);
  }

 private:
  friend class Gate<Stores>;
  Admitted(const Stores* stores, const grpc::ServerContextBase& context)
      : stores_(stores), principal_(PrincipalOf(context)), context_(&context) {}

  const Stores* stores_;
  Principal principal_;
  const grpc::ServerContextBase* context_;
};

template <typename Stores>
class Gate final {
 public:
  Gate(Stores stores, const InternalGuard* guard) : stores_(std::move(stores)), guard_(guard) {}

  // UNAUTHENTICATED (NOT_THROUGH_GATEWAY) without the gateway's credential;
  // INVALID_ARGUMENT naming the field for a request past the sizes.
  absl::StatusOr<Admitted<Stores>> Admit(const grpc::ServerContextBase& context,
                                         const google::protobuf::Message& request) const {
    RETURN_IF_ERROR(guard_->Check(context, request));
    return Admitted<Stores>(&stores_, context);
  }
  // The same for a client stream, whose requests come later (each is held to the
  // sizes as it is read).
  absl::StatusOr<Admitted<Stores>> Admit(const grpc::ServerContextBase& context) const {
    RETURN_IF_ERROR(guard_->Check(context));
    return Admitted<Stores>(&stores_, context);
  }

 private:
  const Stores stores_;
  const InternalGuard* const guard_;
};

}  // namespace funnel::common
