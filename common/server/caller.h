#pragma once

#include <grpcpp/server_context.h>

#include <string>

namespace funnel::common {

// The verified caller's principal id the gateway forwards, or "anonymous".
std::string CallerId(const grpc::ServerContextBase& context);

}  // namespace funnel::common
