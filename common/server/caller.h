#pragma once

#include <grpcpp/server_context.h>

#include <string>

namespace funnel::common {

// The verified caller's principal id the gateway forwards, or "anonymous".
std::string CallerId(const grpc::ServerContextBase& context);

// The call's well-formed x-request-id (the gateway gives every call one), or empty.
std::string RequestIdOf(const grpc::ServerContextBase& context);

}  // namespace funnel::common
