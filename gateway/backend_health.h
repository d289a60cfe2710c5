#pragma once

// A health probe for ServiceHost that asks a backend's own health service.

#include <grpcpp/channel.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"

namespace funnel::gateway {

// Returns a probe: OK when `channel`'s server answers grpc.health.v1.Health/Check
// with SERVING within a second; UNAVAILABLE naming `backend_name` otherwise.
std::function<absl::Status()> BackendHealthProbe(std::shared_ptr<grpc::Channel> channel,
                                                 std::string backend_name);

}  // namespace funnel::gateway
