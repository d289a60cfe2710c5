#include "gateway/proxy.h"

#include <atomic>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/limits.h"
#include "common/status.h"

namespace funnel::gateway {
namespace {

// The backend's metadata, passed back to the caller up to the size the gateway
// itself would forward (a service's headers and trailers are its own; the bound
// keeps a bug in one from breaking the caller's connection).
template <typename Add>
void CopyMetadata(const std::multimap<grpc::string_ref, grpc::string_ref>& from, Add add) {
  size_t total = 0;
  for (const auto& [key, value] : from) {
    absl::string_view k(key.data(), key.size());
    if (IsTransportHeader(k)) continue;
    total += common::HeaderEntrySize(key.size(), value.size());
    if (total > common::kMaxForwardedMetadataBytes) break;
    add(std::string(k), std::string(value.data(), value.size()));
  }
}

void CopyTrailers(const grpc::ClientContext& from, grpc::GenericCallbackServerContext* to) {
  CopyMetadata(from.GetServerTrailingMetadata(),
               [to](std::string k, std::string v) { to->AddTrailingMetadata(k, v); });
}

// Answers a call the gateway cannot route.
class RejectReactor final : public grpc::ServerGenericBidiReactor {
 public:
  RejectReactor(const absl::Status& status, grpc::GenericCallbackServerContext* context) {
    Finish(Refusal(status, context));
  }
  void OnDone() override { delete this; }
};

// One forwarded call: the server side faces the caller, `backend_` the owning
// service. Each direction has one operation in flight at a time and reuses its
// buffer only after the previous operation finished. The backend's initial
// metadata is passed on before its first message (a change-feed watch says
// where it starts there, before any event). Holds on the backend reactor
// keep its OnDone from running while either direction may still touch it, so by
// the time the backend's status arrives no caller read or write is outstanding and
// the status can be sent straight back.
class ProxyCall final : public grpc::ServerGenericBidiReactor {
 public:
  ProxyCall(grpc::GenericCallbackServerContext* server_ctx, grpc::GenericStub* stub,
            Admission admission, const Gatekeeper& gatekeeper)
      : server_ctx_(server_ctx),
        client_ctx_(grpc::ClientContext::FromCallbackServerContext(*server_ctx)),
        permit_(std::move(admission.permit)),
        backend_(this) {
    gatekeeper.Stamp(*server_ctx, admission.principal, client_ctx_.get());
    stub->PrepareBidiStreamingCall(client_ctx_.get(), server_ctx->method(), {}, &backend_);
    backend_.AddHold();  // Released when the caller -> backend direction ends.
    backend_.StartCall();
    StartRead(&request_);
  }

  // Caller -> backend.
  void OnReadDone(bool ok) override {
    if (ok) {
      backend_.StartWrite(&request_);
    } else {
      backend_.StartWritesDone();
      backend_.RemoveHold();
    }
  }
  void OnBackendWriteDone(bool ok) {
    if (ok) {
      StartRead(&request_);
    } else {
      backend_.RemoveHold();  // The backend call is over; its status follows.
    }
  }

  // Backend -> caller: the initial metadata, then each message.
  void OnBackendInitialMetadata(bool ok) {
    if (!ok) return;  // The call failed; its status follows.
    CopyMetadata(client_ctx_->GetServerInitialMetadata(),
                 [this](std::string k, std::string v) { server_ctx_->AddInitialMetadata(k, v); });
    StartSendInitialMetadata();
    backend_.StartRead(&response_);
  }
  void OnBackendReadDone(bool ok) {
    if (!ok) return;     // No more responses; the status follows.
    backend_.AddHold();  // Released once the caller has the message.
    StartWrite(&response_);
  }
  void OnWriteDone(bool ok) override {
    if (ok) {
      backend_.StartRead(&response_);
    } else {
      client_ctx_->TryCancel();  // The caller went away.
    }
    backend_.RemoveHold();
  }

  void OnBackendDone(const grpc::Status& status) {
    CopyTrailers(*client_ctx_, server_ctx_);
    permit_ = CallPermit();  // over for the caller's limits before the caller hears so
    Finish(common::BoundedGrpcStatus(status));
    Unref();
  }

  void OnCancel() override { client_ctx_->TryCancel(); }
  void OnDone() override { Unref(); }

 private:
  class BackendSide final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
   public:
    explicit BackendSide(ProxyCall* call) : call_(call) {}
    void OnReadInitialMetadataDone(bool ok) override { call_->OnBackendInitialMetadata(ok); }
    void OnReadDone(bool ok) override { call_->OnBackendReadDone(ok); }
    void OnWriteDone(bool ok) override { call_->OnBackendWriteDone(ok); }
    void OnDone(const grpc::Status& status) override { call_->OnBackendDone(status); }

   private:
    ProxyCall* const call_;
  };

  // The caller's reactor and the backend's must both be done before deleting.
  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }

  grpc::GenericCallbackServerContext* const server_ctx_;
  std::unique_ptr<grpc::ClientContext> client_ctx_;
  CallPermit permit_;  // the caller's place under its in-flight limit, until the status
  BackendSide backend_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::atomic<int> refs_{2};
};

// One forwarded unary call: read the request, one backend call, write the answer
// with the status. Half the operations (and thread hand-offs) of the streaming
// ProxyCall, which most calls would otherwise pay for nothing.
class UnaryProxyCall final : public grpc::ServerGenericBidiReactor {
 public:
  UnaryProxyCall(grpc::GenericCallbackServerContext* server_ctx, grpc::GenericStub* stub,
                 Admission admission, const Gatekeeper& gatekeeper)
      : server_ctx_(server_ctx),
        client_ctx_(grpc::ClientContext::FromCallbackServerContext(*server_ctx)),
        stub_(stub),
        permit_(std::move(admission.permit)) {
    gatekeeper.Stamp(*server_ctx, admission.principal, client_ctx_.get());
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // The caller went away (or sent nothing) before the request arrived.
      permit_ = CallPermit();
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "request: not received"));
      Unref();  // No backend call will report.
      return;
    }
    stub_->UnaryCall(client_ctx_.get(), server_ctx_->method(), grpc::StubOptions(), &request_,
                     &response_, [this](grpc::Status status) { OnBackendDone(status); });
  }

  void OnBackendDone(const grpc::Status& status) {
    CopyTrailers(*client_ctx_, server_ctx_);
    permit_ = CallPermit();
    if (status.ok()) {
      StartWriteAndFinish(&response_, grpc::WriteOptions(), status);
    } else {
      Finish(common::BoundedGrpcStatus(status));
    }
    Unref();
  }

  void OnCancel() override { client_ctx_->TryCancel(); }
  void OnDone() override { Unref(); }

 private:
  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }

  grpc::GenericCallbackServerContext* const server_ctx_;
  std::unique_ptr<grpc::ClientContext> client_ctx_;
  grpc::GenericStub* const stub_;
  CallPermit permit_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::atomic<int> refs_{2};  // this reactor's OnDone and the backend call's end
};

}  // namespace

ForwardingProxy::ForwardingProxy(std::map<Backend, std::shared_ptr<grpc::Channel>> channels,
                                 const Gatekeeper* gatekeeper)
    : gatekeeper_(gatekeeper) {
  for (auto& [backend, channel] : channels) {
    stubs_[backend] = std::make_unique<grpc::GenericStub>(channel);
  }
}

grpc::ServerGenericBidiReactor* ForwardingProxy::CreateReactor(
    grpc::GenericCallbackServerContext* context) {
  // Unknown methods are UNIMPLEMENTED for anyone (reflection lists the public API
  // anyway, and clients such as buf curl rely on it to fall back between
  // reflection versions); every public method needs a key and the policy's leave.
  absl::StatusOr<Route> route = RouteFor(context->method());
  if (!route.ok()) return new RejectReactor(route.status(), context);
  absl::StatusOr<Admission> admission = gatekeeper_->Admit(*context, context->method());
  if (!admission.ok()) return new RejectReactor(admission.status(), context);
  grpc::GenericStub* stub = stubs_.at(route->backend).get();
  if (!route->method->client_streaming() && !route->method->server_streaming()) {
    return new UnaryProxyCall(context, stub, *std::move(admission), *gatekeeper_);
  }
  return new ProxyCall(context, stub, *std::move(admission), *gatekeeper_);
}

}  // namespace funnel::gateway
