#pragma once

// A server interceptor that writes one JSON log line per finished request: method,
// status code, duration and caller. Never logs metadata values (keys are secrets).

#include <grpcpp/support/server_interceptor.h>

#include <string>

namespace funnel::common {

// Metadata key carrying the verified caller's principal id, set by the gateway.
inline constexpr char kPrincipalIdHeader[] = "x-funnel-principal-id";

class RequestLogInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RequestLogInterceptorFactory(std::string server_name)
      : server_name_(std::move(server_name)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  const std::string server_name_;
};

}  // namespace funnel::common
