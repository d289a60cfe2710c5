#pragma once

// Channels between Funnel's own processes (gateway -> services, relays -> gateway).

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_interceptor.h>

#include <memory>
#include <string>
#include <vector>

namespace funnel::common {

// The gRPC target for an address flag: "host:port" as is; a comma-separated list
// "10.0.0.1:50053,10.0.0.2:50053" as one ipv4 target over all of them; "dns:///..."
// (a name that resolves to several addresses) as is.
std::string ChannelTarget(const std::string& address);

// A channel to another Funnel process (or its replicas). Round-robin over every
// address, with gRPC's client-side health checking (grpc.health.v1.Health/Watch) so
// a replica that stops serving is skipped. gRPC's default reconnect backoff grows to
// two minutes, during which calls fail at once; between our own processes a peer
// that restarts is back in a second, so reconnect every 100 ms-1 s. `interceptors`
// see every call made on it.
std::shared_ptr<grpc::Channel> InternalChannel(
    const std::string& address,
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials(),
    std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
        interceptors = {});

}  // namespace funnel::common
