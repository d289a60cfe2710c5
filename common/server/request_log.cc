#include "common/server/request_log.h"

#include <grpcpp/server_context.h>

#include "absl/time/clock.h"
#include "common/log.h"

namespace funnel::common {
namespace {

const char* CodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {
      "OK",           "CANCELLED",          "UNKNOWN",        "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",     "ALREADY_EXISTS", "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",          "UNAVAILABLE",    "DATA_LOSS",
      "UNAUTHENTICATED"};
  int i = static_cast<int>(code);
  return i >= 0 && i <= 16 ? kNames[i] : "UNKNOWN";
}

class RequestLogInterceptor final : public grpc::experimental::Interceptor {
 public:
  RequestLogInterceptor(const std::string* server_name, grpc::experimental::ServerRpcInfo* info)
      : server_name_(server_name), info_(info), start_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      std::string caller;
      std::string peer;
      if (grpc::ServerContextBase* ctx = info_->server_context(); ctx != nullptr) {
        auto it = ctx->client_metadata().find(kPrincipalIdHeader);
        if (it != ctx->client_metadata().end()) caller.assign(it->second.data(), it->second.size());
        peer = ctx->peer();
      }
      LogInfo("request", {{"server", *server_name_},
                          {"method", info_->method() ? info_->method() : ""},
                          {"code", CodeName(status.error_code())},
                          {"duration_ms", absl::ToDoubleMilliseconds(absl::Now() - start_)},
                          {"caller", caller.empty() ? "anonymous" : caller},
                          {"peer", peer}});
    }
    methods->Proceed();
  }

 private:
  const std::string* server_name_;
  grpc::experimental::ServerRpcInfo* info_;
  const absl::Time start_;
};

}  // namespace

grpc::experimental::Interceptor* RequestLogInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new RequestLogInterceptor(&server_name_, info);
}

}  // namespace funnel::common
