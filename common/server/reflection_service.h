#pragma once

// grpc.reflection.v1alpha.ServerReflection over the binary's generated descriptor
// pool, listing exactly the services it is given. gRPC's own reflection plugin
// lists only services registered with the server; the gateway forwards most
// services through one generic handler, so it needs this to let grpcurl and
// `buf curl` list and describe what it forwards.

#include <string>
#include <vector>

#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace funnel::common {

class ReflectionService final
    : public grpc::reflection::v1alpha::ServerReflection::CallbackService {
 public:
  // `services` are fully qualified names; each must be in the generated pool
  // (the binary must link its generated code).
  explicit ReflectionService(std::vector<std::string> services);

  grpc::ServerBidiReactor<grpc::reflection::v1alpha::ServerReflectionRequest,
                          grpc::reflection::v1alpha::ServerReflectionResponse>*
  ServerReflectionInfo(grpc::CallbackServerContext* context) override;

  // Answers one request; public for tests.
  grpc::reflection::v1alpha::ServerReflectionResponse Answer(
      const grpc::reflection::v1alpha::ServerReflectionRequest& request) const;

 private:
  const std::vector<std::string> services_;
};

}  // namespace funnel::common
