#pragma once

// Forwards every call to a forwarded service to the backend that owns it, without
// decoding the messages and without blocking a thread: one generic callback reactor
// per call streams request and response bytes through, so unary, client-streaming
// (ImportLeads) and any later streaming methods all pass unchanged. The caller's
// deadline and cancellation propagate to the backend, and the backend's status
// (code, message, details) and trailing metadata come back as they are.

#include <grpcpp/channel.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>

#include <map>
#include <memory>

#include "gateway/routes.h"

namespace funnel::gateway {

class ForwardingProxy final : public grpc::CallbackGenericService {
 public:
  // `channels` must hold a channel for every Backend.
  explicit ForwardingProxy(std::map<Backend, std::shared_ptr<grpc::Channel>> channels);

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override;

 private:
  std::map<Backend, std::unique_ptr<grpc::GenericStub>> stubs_;
};

}  // namespace funnel::gateway
