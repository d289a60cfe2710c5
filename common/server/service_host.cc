#include "common/server/service_host.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "common/server/request_log.h"

namespace funnel::common {

using grpc::health::v1::HealthCheckResponse;

void BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

namespace {

// Why host:port cannot be listened on, as the system says it ("Address already in
// use"), or empty when a trial bind works. gRPC itself only reports that no address
// could be added.
std::string BindProblem(const std::string& host, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
    return "";  // a name or IPv6: let gRPC try
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  std::string problem;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    problem = std::strerror(errno);
  ::close(fd);
  return problem;
}

}  // namespace

ServiceHost::ServiceHost(ServiceHostOptions options) : options_(std::move(options)) {
  RouteProtobufLogs();
}

ServiceHost::~ServiceHost() { Shutdown(); }

void ServiceHost::AddService(grpc::Service* service, const std::vector<std::string>& names) {
  services_.emplace_back(service, names);
  public_names_.insert(public_names_.end(), names.begin(), names.end());
}

void ServiceHost::AddGenericService(grpc::CallbackGenericService* service,
                                    const std::vector<std::string>& names) {
  generic_ = service;
  public_names_.insert(public_names_.end(), names.begin(), names.end());
}

void ServiceHost::AddHealthProbe(std::vector<std::string> names,
                                 std::function<absl::Status()> probe) {
  probes_.push_back({std::move(names), std::move(probe)});
}

absl::Status ServiceHost::Start() {
  std::vector<std::string> health_names = public_names_;
  health_ = std::make_unique<HealthService>(health_names);
  std::vector<std::string> listed = public_names_;
  listed.push_back("grpc.health.v1.Health");
  listed.push_back("grpc.reflection.v1alpha.ServerReflection");
  listed.push_back("grpc.reflection.v1.ServerReflection");
  reflection_ = std::make_unique<ReflectionService>(listed);
  reflection_v1_ = std::make_unique<ReflectionServiceV1>(reflection_.get());

  if (options_.port != 0) {
    if (std::string problem = BindProblem(options_.host, options_.port); !problem.empty()) {
      return absl::UnavailableError(absl::StrCat(options_.name, ": cannot listen on ",
                                                 options_.host, ":", options_.port, ": ", problem));
    }
  }
  grpc::ServerBuilder builder;
  // A second server on a taken port must fail, not share it (SO_REUSEPORT).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  ApplyServerLimits(builder, options_.connection_limits ? &*options_.connection_limits : nullptr);
  if (options_.max_threads > 0) {
    grpc::ResourceQuota quota(options_.name);
    quota.SetMaxThreads(options_.max_threads);
    builder.SetResourceQuota(quota);
  }
  // Sync handlers block on the database, one thread per call in flight. gRPC's
  // default keeps at most two idle polling threads, so under load it creates and
  // destroys a thread for nearly every call (the bench's capture profile showed
  // pthread_create and page-table work dominating); keeping idle threads is cheap.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 4);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 128);
  builder.AddListeningPort(
      absl::StrCat(options_.host, ":", options_.port),
      options_.credentials ? options_.credentials : grpc::InsecureServerCredentials(), &port_);
  for (auto& [service, names] : services_) builder.RegisterService(service);
  if (generic_ != nullptr) builder.RegisterCallbackGenericService(generic_);
  builder.RegisterService(health_.get());
  builder.RegisterService(reflection_.get());
  builder.RegisterService(reflection_v1_.get());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<RequestLogInterceptorFactory>(
      RequestLogOptions{options_.name, options_.assign_request_ids, options_.log_caller}));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat(options_.name, ": cannot listen on ", options_.host, ":", options_.port));
  }
  for (Probe& probe : probes_) {
    probe.runner = std::make_unique<ProbeRunner>(probe.fn);
    if (probe.names.empty()) {
      probe.names.push_back("");
      probe.names.insert(probe.names.end(), public_names_.begin(), public_names_.end());
    }
  }
  RunProbes();
  probe_thread_ = std::thread([this] { ProbeLoop(); });
  if (!options_.port_file.empty()) {
    std::ofstream(options_.port_file) << port_ << "\n";
  }
  LogInfo("listening", {{"server", options_.name}, {"host", options_.host}, {"port", port_}});
  return absl::OkStatus();
}

void ServiceHost::RunProbes() {
  if (probes_.empty()) {
    health_->SetStatus("", HealthCheckResponse::SERVING);
    for (const std::string& name : public_names_) {
      health_->SetStatus(name, HealthCheckResponse::SERVING);
    }
    return;
  }
  for (Probe& probe : probes_) {
    const absl::Status status = probe.runner->Run(options_.probe_timeout);
    if (probe.first || status.ok() != probe.last_ok) {
      LogInfo(status.ok() ? "serving" : "not serving",
              {{"server", options_.name},
               {"probe", absl::StrJoin(probe.names, ",")},
               {"reason", status.ok() ? "" : std::string(status.message())}});
    }
    probe.first = false;
    probe.last_ok = status.ok();
    for (const std::string& name : probe.names) {
      health_->SetStatus(
          name, status.ok() ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING);
    }
  }
}

void ServiceHost::ProbeLoop() {
  while (!stop_probes_.WaitForNotificationWithTimeout(options_.probe_interval)) {
    RunProbes();
  }
}

void ServiceHost::Shutdown() {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  LogInfo("shutting down", {{"server", options_.name}});
  stop_probes_.Notify();
  if (probe_thread_.joinable()) probe_thread_.join();
  health_->Shutdown();
  for (const auto& hook : stop_hooks_) hook();
  server_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoMilliseconds(options_.drain_timeout));
  server_->Wait();
  LogInfo("stopped", {{"server", options_.name}});
}

int ServiceHost::ServeUntilSignal(const std::function<void()>& on_reload) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  while (true) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      LogInfo("reload requested", {{"server", options_.name}});
      if (on_reload) on_reload();
      continue;
    }
    LogInfo("signal received", {{"server", options_.name}, {"signal", sig}});
    break;
  }
  Shutdown();
  return 0;
}

}  // namespace funnel::common
