#include "gateway/backend_metrics.h"

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "common/metrics.h"
#include "common/status.h"

namespace funnel::gateway {
namespace {

using grpc::experimental::InterceptionHookPoints;

class BackendMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit BackendMetricsInterceptor(Backend backend) : backend_(backend) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      start_ = absl::Now();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_STATUS)) {
      const grpc::Status* status = methods->GetRecvStatus();
      CountBackendCall(backend_, status ? status->error_code() : grpc::StatusCode::UNKNOWN,
                       absl::Now() - start_);
    }
    methods->Proceed();
  }

 private:
  const Backend backend_;
  absl::Time start_ = absl::Now();
};

class BackendMetricsFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BackendMetricsFactory(Backend backend) : backend_(backend) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
    // The gateway's own probes of its backends are not calls made for a caller.
    if (absl::StartsWith(info->method(), "/grpc.health.v1.Health/")) return nullptr;
    return new BackendMetricsInterceptor(backend_);
  }

 private:
  const Backend backend_;
};

}  // namespace

void CountBackendCall(Backend backend, grpc::StatusCode code, absl::Duration took) {
  static prometheus::Family<prometheus::Counter>& calls = common::CounterFamily(
      "funnel_gateway_backend_calls_total",
      "Calls the gateway made to a backend (forwarded or for a composite view), by backend "
      "and the backend's code.");
  static prometheus::Family<prometheus::Histogram>& seconds =
      common::HistogramFamily("funnel_gateway_backend_call_seconds",
                              "Time from sending a call to a backend to its status, by backend.");
  calls.Add({{"backend", BackendName(backend)}, {"grpc_code", common::StatusCodeName(code)}})
      .Increment();
  seconds.Add({{"backend", BackendName(backend)}}, common::LatencyBuckets())
      .Observe(absl::ToDoubleSeconds(took));
}

std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
BackendMetricsInterceptors(Backend backend) {
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> out;
  out.push_back(std::make_unique<BackendMetricsFactory>(backend));
  return out;
}

}  // namespace funnel::gateway
