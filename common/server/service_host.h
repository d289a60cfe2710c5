#pragma once

// Everything a Funnel server needs around its own services: listening port,
// reflection, health (with periodic probes that flip SERVING/NOT_SERVING), the
// request log, and an orderly stop (health NOT_SERVING, drain in-flight calls).
//
// Example (main):
//   ServiceHost host({.name = "marketing", .port = 50052});
//   host.AddService(&marketing, {"funnel.marketing.v1.MarketingService"});
//   host.AddHealthProbe({""}, [&] { return pool.Ping(); });
//   if (absl::Status s = host.Start(); !s.ok()) ...
//   return host.ServeUntilSignal();

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/limits.h"
#include "common/server/health_service.h"
#include "common/server/probe_runner.h"
#include "common/server/reflection_service.h"

namespace funnel::common {

struct ServiceHostOptions {
  std::string name;                // for logs: "marketing", "sales", "gateway"
  std::string host = "127.0.0.1";  // interface to bind
  int port = 0;                    // 0 picks a free port; see port()
  std::string port_file;           // if set, the bound port is written here
  std::shared_ptr<grpc::ServerCredentials> credentials;  // default: insecure
  absl::Duration probe_interval = absl::Milliseconds(500);
  // A probe that has not answered by then counts as failed (a hung database).
  absl::Duration probe_timeout = absl::Seconds(2);
  absl::Duration drain_timeout = absl::Seconds(10);
  // The request log: whether calls get a request id here (the gateway), and who
  // a call's line names (only what was verified).
  bool assign_request_ids = false;
  std::function<std::string(const grpc::ServerContextBase&)> log_caller;
  // Per-connection limits for a server that faces callers (the gateway); every
  // server gets the metadata and message limits of common/limits.h.
  std::optional<ConnectionLimits> connection_limits;
  // Most threads the blocking handlers may use at once (a call beyond them is
  // answered RESOURCE_EXHAUSTED instead of making another thread); 0: no cap.
  int max_threads = 0;
};

class ServiceHost final {
 public:
  explicit ServiceHost(ServiceHostOptions options);
  ~ServiceHost();

  // Registers a service and names the public services it implements, which are
  // listed in reflection and reported on by health.
  void AddService(grpc::Service* service, const std::vector<std::string>& names);
  // Registers a handler for every method no registered service implements, and
  // the names of the services it answers for.
  void AddGenericService(grpc::CallbackGenericService* service,
                         const std::vector<std::string>& names);
  // Every probe_interval, runs `probe` and sets `names` ("" is the whole server;
  // no names means "" and every public service) SERVING when it returns OK, NOT_SERVING otherwise.
  void AddHealthProbe(std::vector<std::string> names, std::function<absl::Status()> probe);
  // Runs `fn` when shutdown begins, before in-flight calls are drained: for calls
  // that never end by themselves (change-feed watches), which must be ended so
  // the drain does not wait them out.
  void AddStopHook(std::function<void()> fn) { stop_hooks_.push_back(std::move(fn)); }

  // Builds and starts the server and the probes. The first probe round has run when
  // it returns. UNAVAILABLE naming the address (and why, when the system says) if
  // the port cannot be bound.
  absl::Status Start();
  int port() const { return port_; }
  HealthService& health() { return *health_; }

  // Health NOT_SERVING, stop accepting, wait up to drain_timeout for in-flight
  // calls (then cancel them), stop probes. Idempotent.
  void Shutdown();

  // Blocks until SIGTERM or SIGINT, then Shutdown() and return 0. SIGHUP runs
  // `on_reload`. Requires BlockShutdownSignals() first.
  int ServeUntilSignal(const std::function<void()>& on_reload = nullptr);

 private:
  void ProbeLoop();
  void RunProbes();

  struct Probe {
    std::vector<std::string> names;
    std::function<absl::Status()> fn;
    std::unique_ptr<ProbeRunner> runner;  // made at Start()
    bool last_ok = false;
    bool first = true;
  };

  ServiceHostOptions options_;
  std::vector<std::pair<grpc::Service*, std::vector<std::string>>> services_;
  grpc::CallbackGenericService* generic_ = nullptr;
  std::vector<std::string> public_names_;
  std::vector<Probe> probes_;
  std::unique_ptr<HealthService> health_;
  std::unique_ptr<ReflectionService> reflection_;
  std::unique_ptr<ReflectionServiceV1> reflection_v1_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  absl::Notification stop_probes_;
  std::vector<std::function<void()>> stop_hooks_;
  std::thread probe_thread_;
  bool shut_down_ = false;
};

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and every thread it
// creates later, so ServiceHost::ServeUntilSignal can take them with sigwait.
// Call first thing in main.
void BlockShutdownSignals();

}  // namespace funnel::common
