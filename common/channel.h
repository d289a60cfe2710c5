#pragma once

// Channels between Funnel's own processes (gateway -> services, relays -> gateway).

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace funnel::common {

// An insecure channel to another Funnel process. gRPC's default reconnect backoff
// grows to two minutes, during which calls fail at once; between our own processes
// a peer that restarts is back in a second, so retry connecting every 100 ms-1 s.
inline std::shared_ptr<grpc::Channel> InternalChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

}  // namespace funnel::common
