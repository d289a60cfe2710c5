#pragma once

// grpc.reflection.v1alpha.ServerReflection and grpc.reflection.v1 (clients such as
// buf curl try v1 first) over the binary's generated descriptor pool, listing
// exactly the services it is given. gRPC's own reflection plugin
// lists only services registered with the server; the gateway forwards most
// services through one generic handler, so it needs this to let grpcurl and
// `buf curl` list and describe what it forwards.

#include <string>
#include <vector>

#include "grpc/reflection/v1/reflection.grpc.pb.h"
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

// grpc.reflection.v1, answered by a ReflectionService: v1 is v1alpha renamed, the
// same messages field for field, so requests and answers cross as their bytes.
class ReflectionServiceV1 final : public grpc::reflection::v1::ServerReflection::CallbackService {
 public:
  explicit ReflectionServiceV1(const ReflectionService* v1alpha) : v1alpha_(v1alpha) {}

  grpc::ServerBidiReactor<grpc::reflection::v1::ServerReflectionRequest,
                          grpc::reflection::v1::ServerReflectionResponse>*
  ServerReflectionInfo(grpc::CallbackServerContext* context) override;

  grpc::reflection::v1::ServerReflectionResponse Answer(
      const grpc::reflection::v1::ServerReflectionRequest& request) const;

 private:
  const ReflectionService* const v1alpha_;
};

}  // namespace funnel::common
