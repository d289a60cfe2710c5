#pragma once

// A server interceptor that writes one JSON log line per finished request: method,
// status code, duration, the verified caller and the request id. Never logs
// metadata values (keys are secrets). Health checks are logged at debug level: the
// gateway probes every backend twice a second.

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_interceptor.h>

#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace funnel::common {

// Metadata key carrying the verified caller's principal id, set by the gateway.
inline constexpr char kPrincipalIdHeader[] = "x-funnel-principal-id";

struct RequestLogOptions {
  std::string server_name;
  // The gateway: a call without a well-formed x-request-id is given a new one,
  // which its handler then finds in the call's metadata (and forwards).
  bool assign_request_ids = false;
  // Who the line names as the caller; only what was verified (default "anonymous").
  std::function<std::string(const grpc::ServerContextBase&)> caller;
};

// Counts a finished call of `path` ("/pkg.Service/Method") into the server metrics
// (funnel_grpc_server_handled_total by code, funnel_grpc_server_handling_seconds):
// the request log does it for every call it sees, the gateway's HTTP/2 relay for
// the calls it forwards.
void CountHandled(absl::string_view path, grpc::StatusCode code, absl::Duration took);

class RequestLogInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RequestLogInterceptorFactory(RequestLogOptions options) : options_(std::move(options)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  const RequestLogOptions options_;
};

}  // namespace funnel::common
