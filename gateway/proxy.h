#pragma once

// Admits every call through the Gatekeeper (metadata size, API key -> principal,
// policy, the caller's limits) and forwards it to the backend that owns it with
// only the allow-listed caller headers (x-request-id), the verified principal
// (x-funnel-principal-id, x-funnel-role, x-funnel-rep-id) and the internal
// credential; anything else a caller sends stays at the door, so nothing can be
// forged and no caller can make the shared backend connection's headers too big.
//
// Forwarding happens without
// decoding the messages and without blocking a thread: one generic callback reactor
// per call passes request and response bytes through; unary methods take a short
// path (one read, one backend call, one write), client-streaming (ImportLeads) and
// any later streaming methods stream through unchanged. The caller's
// deadline and cancellation propagate to the backend, and the backend's status
// (code, message cut to kMaxStatusMessageBytes, details) and trailing metadata
// come back.

#include <grpcpp/channel.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>

#include <map>
#include <memory>

#include "gateway/gatekeeper.h"
#include "gateway/routes.h"

namespace funnel::gateway {

class ForwardingProxy final : public grpc::CallbackGenericService {
 public:
  // `channels` must hold a channel for every backend; `gatekeeper` must outlive
  // the proxy.
  ForwardingProxy(std::map<Backend, std::shared_ptr<grpc::Channel>> channels,
                  const Gatekeeper* gatekeeper);

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override;

 private:
  std::map<Backend, std::unique_ptr<grpc::GenericStub>> stubs_;
  const Gatekeeper* const gatekeeper_;
};

}  // namespace funnel::gateway
