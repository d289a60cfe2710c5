#pragma once

// The gateway's calls to its backends, counted and timed on the backend channels
// themselves, so that forwarded calls and the composite views' calls (the funnel
// report, a lead's journey) are measured alike; the gateway's own health probes of
// its backends are not counted:
//   funnel_gateway_backend_calls_total{backend, grpc_code}
//   funnel_gateway_backend_call_seconds{backend}

#include <grpcpp/support/client_interceptor.h>

#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "gateway/routes.h"

namespace funnel::gateway {

// Counts one finished backend call (the interceptors below, and the HTTP/2 relay
// for the calls it forwards).
void CountBackendCall(Backend backend, grpc::StatusCode code, absl::Duration took);

std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
BackendMetricsInterceptors(Backend backend);

}  // namespace funnel::gateway
