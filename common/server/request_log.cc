#include "common/server/request_log.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/call_deadline.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/request_id.h"
#include "common/status.h"

namespace funnel::common {
// Named as go-grpc-prometheus names them, with Funnel's prefix.
void CountHandled(absl::string_view path, grpc::StatusCode code, absl::Duration took) {
  static prometheus::Family<prometheus::Counter>& handled =
      CounterFamily("funnel_grpc_server_handled_total",
                    "gRPC calls completed by the server, by method and code.");
  static prometheus::Family<prometheus::Histogram>& seconds =
      HistogramFamily("funnel_grpc_server_handling_seconds",
                      "Time from a call's arrival to its status, by method.");
  absl::ConsumePrefix(&path, "/");
  const size_t slash = path.find('/');
  const std::string service(path.substr(0, slash));
  const std::string method(slash == absl::string_view::npos ? "" : path.substr(slash + 1));
  handled
      .Add(
          {{"grpc_service", service}, {"grpc_method", method}, {"grpc_code", StatusCodeName(code)}})
      .Increment();
  seconds.Add({{"grpc_service", service}, {"grpc_method", method}}, LatencyBuckets())
      .Observe(absl::ToDoubleSeconds(took));
}

namespace {

class RequestLogInterceptor final : public grpc::experimental::Interceptor {
 public:
  RequestLogInterceptor(const RequestLogOptions* options, grpc::experimental::ServerRpcInfo* info)
      : options_(options),
        info_(info),
        start_(absl::Now()),
        // A blocking handler runs on one thread from its first hook to its status,
        // so that thread's log lines can carry the call's request id.
        blocking_(dynamic_cast<grpc::ServerContext*>(info->server_context()) != nullptr),
        quiet_(info->method() != nullptr &&
               absl::StartsWith(info->method(), "/grpc.health.v1.Health/")),
        single_request_(info->type() == grpc::experimental::ServerRpcInfo::Type::UNARY ||
                        info->type() == grpc::experimental::ServerRpcInfo::Type::SERVER_STREAMING) {
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      TakeRequestId(methods->GetRecvInitialMetadata());
      if (blocking_) {
        SetCurrentRequestId(request_id_);
        // No deadline reads as the far future (gRPC's "infinite" time point).
        const auto deadline = info_->server_context()->deadline();
        SetCurrentCallDeadline(deadline == std::chrono::system_clock::time_point::max()
                                   ? absl::InfiniteFuture()
                                   : absl::FromChrono(deadline));
      }
    }
    // gRPC answers a request it cannot parse with INTERNAL and no message (the
    // callback API with UNIMPLEMENTED): the caller sent bad bytes, so say that. Only
    // for single-request calls, where no message means the one request failed to
    // parse (in a stream it also means the stream ended).
    if (single_request_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      malformed_ = true;
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      if (malformed_ && !status.ok()) {
        status = grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            absl::StrCat("request: malformed: the bytes are not a valid request message for ",
                         info_->method() ? info_->method() : "this method"));
        methods->ModifySendStatus(status);
      }
      CountHandled(info_->method() ? info_->method() : "", status.error_code(),
                   absl::Now() - start_);
      const char* level = quiet_ ? "debug" : "info";
      if (LogEnabled(level)) {
        grpc::ServerContextBase* ctx = info_->server_context();
        Log(level, "request",
            {{"server", options_->server_name},
             {"method", info_->method() ? info_->method() : ""},
             {"code", StatusCodeName(status.error_code())},
             {"duration_ms", absl::ToDoubleMilliseconds(absl::Now() - start_)},
             {"caller", ctx != nullptr && options_->caller ? options_->caller(*ctx) : "anonymous"},
             {"request_id", request_id_},
             {"peer", ctx != nullptr ? ctx->peer() : ""}});
      }
      if (blocking_) {
        SetCurrentRequestId("");
        SetCurrentCallDeadline(absl::InfiniteFuture());
      }
    }
    methods->Proceed();
  }

 private:
  // Keeps a well-formed id the caller sent; otherwise (on the gateway) replaces
  // whatever was sent with a new one, which the handler then sees.
  void TakeRequestId(std::multimap<grpc::string_ref, grpc::string_ref>* md) {
    if (md == nullptr) return;
    auto [begin, end] = md->equal_range(kRequestIdHeader);
    if (begin != end && std::next(begin) == end &&
        IsWellFormedRequestId(absl::string_view(begin->second.data(), begin->second.size()))) {
      request_id_.assign(begin->second.data(), begin->second.size());
      return;
    }
    if (!options_->assign_request_ids) return;
    md->erase(begin, end);
    request_id_ = NewRequestId();
    // The map holds references: request_id_ lives as long as the call.
    md->emplace(grpc::string_ref(kRequestIdHeader), grpc::string_ref(request_id_));
  }

  const RequestLogOptions* options_;
  grpc::experimental::ServerRpcInfo* info_;
  const absl::Time start_;
  const bool blocking_;
  const bool quiet_;
  const bool single_request_;
  bool malformed_ = false;
  std::string request_id_;
};

}  // namespace

grpc::experimental::Interceptor* RequestLogInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new RequestLogInterceptor(&options_, info);
}

}  // namespace funnel::common
