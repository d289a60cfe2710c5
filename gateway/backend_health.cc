#include "gateway/backend_health.h"

#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace funnel::gateway {

std::function<absl::Status()> BackendHealthProbe(std::shared_ptr<grpc::Channel> channel,
                                                 std::string backend_name) {
  auto stub =
      std::shared_ptr<grpc::health::v1::Health::Stub>(grpc::health::v1::Health::NewStub(channel));
  return [stub, backend_name]() -> absl::Status {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = stub->Check(&ctx, request, &response);
    if (!status.ok()) {
      return absl::UnavailableError(
          absl::StrCat(backend_name, " unreachable: ", status.error_message()));
    }
    if (response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
      return absl::UnavailableError(absl::StrCat(backend_name, " is not serving"));
    }
    return absl::OkStatus();
  };
}

}  // namespace funnel::gateway
