#include "common/server/health_service.h"

#include "common/metrics.h"
#include "common/status.h"

namespace funnel::common {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// One Watch stream. Writes never overlap: a change that arrives while a write is in
// flight is kept and sent when the write completes (only the latest matters).
class HealthService::Watcher final : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  Watcher(HealthService* service, std::string name) : service_(service), name_(std::move(name)) {}

  void Notify(ServingStatus status, bool finish_after) {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    finish_after_ = finish_after_ || finish_after;
    if (writing_) {
      pending_ = status;
      has_pending_ = true;
      return;
    }
    WriteLocked(status);
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (finished_) return;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled"));
    } else if (has_pending_) {
      has_pending_ = false;
      WriteLocked(pending_);
    } else if (finish_after_) {
      FinishLocked(grpc::Status::OK);
    }
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    if (!finished_) FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled"));
  }

  void OnDone() override {
    service_->RemoveWatcher(this);
    delete this;
  }

  const std::string& name() const { return name_; }

 private:
  void WriteLocked(ServingStatus status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    response_.set_status(status);
    writing_ = true;
    StartWrite(&response_);
  }
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    finished_ = true;
    Finish(status);
  }

  HealthService* const service_;
  const std::string name_;
  absl::Mutex mu_;
  HealthCheckResponse response_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_after_ ABSL_GUARDED_BY(mu_) = false;
  bool has_pending_ ABSL_GUARDED_BY(mu_) = false;
  ServingStatus pending_ ABSL_GUARDED_BY(mu_) = HealthCheckResponse::UNKNOWN;
};

HealthService::HealthService(std::vector<std::string> names) {
  statuses_[""] = HealthCheckResponse::NOT_SERVING;
  for (const std::string& name : names) statuses_[name] = HealthCheckResponse::NOT_SERVING;
}

HealthService::~HealthService() = default;

namespace {

// 1 while `name` ("" is the whole server) is SERVING, 0 otherwise.
void ExportServing(const std::string& name, ServingStatus status) {
  static prometheus::Family<prometheus::Gauge>& serving = GaugeFamily(
      "funnel_health_serving", "1 while the named service answers health SERVING, else 0.");
  serving.Add({{"service", name}}).Set(status == HealthCheckResponse::SERVING ? 1 : 0);
}

}  // namespace

void HealthService::SetStatus(const std::string& name, ServingStatus status) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  auto [it, inserted] = statuses_.emplace(name, status);
  if (!inserted && it->second == status) return;
  it->second = status;
  ExportServing(name, status);
  for (Watcher* w : watchers_) {
    if (w->name() == name) w->Notify(status, /*finish_after=*/false);
  }
}

ServingStatus HealthService::GetStatus(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = statuses_.find(name);
  return it == statuses_.end() ? HealthCheckResponse::SERVICE_UNKNOWN : it->second;
}

void HealthService::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  for (auto& [name, status] : statuses_) {
    status = HealthCheckResponse::NOT_SERVING;
    ExportServing(name, status);
  }
  for (Watcher* w : watchers_) w->Notify(HealthCheckResponse::NOT_SERVING, /*finish_after=*/true);
}

void HealthService::RemoveWatcher(Watcher* watcher) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(watcher);
}

grpc::ServerUnaryReactor* HealthService::Check(grpc::CallbackServerContext* context,
                                               const HealthCheckRequest* request,
                                               HealthCheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  {
    absl::MutexLock lock(&mu_);
    auto it = statuses_.find(request->service());
    if (it == statuses_.end()) {
      reactor->Finish(ToGrpcStatus(absl::NotFoundError("unknown service: " + request->service())));
      return reactor;
    }
    response->set_status(it->second);
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<HealthCheckResponse>* HealthService::Watch(
    grpc::CallbackServerContext* context, const HealthCheckRequest* request) {
  auto* watcher = new Watcher(this, request->service());
  absl::MutexLock lock(&mu_);
  watchers_.insert(watcher);
  auto it = statuses_.find(request->service());
  watcher->Notify(it == statuses_.end() ? HealthCheckResponse::SERVICE_UNKNOWN : it->second,
                  /*finish_after=*/shut_down_);
  return watcher;
}

}  // namespace funnel::common
