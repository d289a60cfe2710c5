#pragma once

// The verified caller the gateway forwards in metadata after authenticating a key.
// Services trust these headers only because the gateway is the only door.

#include <grpcpp/server_context.h>

#include <cstdint>
#include <string>

#include "common/request_key.h"

namespace funnel::common {

inline constexpr char kRoleHeader[] = "x-funnel-role";
inline constexpr char kRepIdHeader[] = "x-funnel-rep-id";

struct Principal {
  std::string id = "anonymous";
  // MARKETING, SALES_REP, SALES_MANAGER, REVENUE_OPS, ADMIN, SERVICE_MARKETING,
  // SERVICE_SALES; empty when no principal was forwarded.
  std::string role;
  int64_t rep_id = 0;

  bool is_sales_rep() const { return role == "SALES_REP"; }
  bool is_sales_manager() const { return role == "SALES_MANAGER"; }
};

Principal PrincipalOf(const grpc::ServerContextBase& context);

// The idempotency key of `request` (its request_id field) as `context`'s caller sent
// it: scoped to the caller's principal, with the request's fingerprint.
RequestKey KeyOf(const grpc::ServerContextBase& context, const google::protobuf::Message& request);

}  // namespace funnel::common
