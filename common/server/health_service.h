#pragma once

// grpc.health.v1.Health, generated from Debian's grpc-proto so that reflection can
// describe it (the built-in health service is invisible to grpcurl). Check answers
// per service name; Watch streams every change, which gRPC's client-side health
// checking (the gateway's backends) relies on.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace funnel::common {

using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

class HealthService final : public grpc::health::v1::Health::CallbackService {
 public:
  // `names` are the services this server reports on; "" (the whole server) is
  // always included. Every name starts NOT_SERVING.
  explicit HealthService(std::vector<std::string> names);
  ~HealthService() override;

  // Sets one name's status and tells its watchers. Unknown names are added.
  void SetStatus(const std::string& name, ServingStatus status);
  ServingStatus GetStatus(const std::string& name) const;

  // Sets every name NOT_SERVING for good (later SetStatus calls are ignored) and
  // ends open Watch streams once they have sent it, so shutdown can drain.
  void Shutdown();

  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  grpc::health::v1::HealthCheckResponse* response) override;
  grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* context,
      const grpc::health::v1::HealthCheckRequest* request) override;

 private:
  class Watcher;
  void RemoveWatcher(Watcher* watcher);

  mutable absl::Mutex mu_;
  std::map<std::string, ServingStatus> statuses_ ABSL_GUARDED_BY(mu_);
  std::set<Watcher*> watchers_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace funnel::common
