#include "common/metrics.h"

#include <grpcpp/ext/channelz_service_plugin.h>

#include <exception>
#include <mutex>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "prometheus/exposer.h"

ABSL_FLAG(int, metrics_port, 0,
          "Port of the Prometheus /metrics endpoint (0: off). Bound to --metrics_host.");
ABSL_FLAG(std::string, metrics_host, "127.0.0.1",
          "Interface the /metrics endpoint binds (loopback unless set; 0.0.0.0 for all).");
ABSL_FLAG(bool, channelz, false,
          "Serve gRPC's channelz service (grpc.channelz.v1) on the gRPC port, for grpcdebug.");

namespace funnel::common {

namespace {

// Process-wide and never destroyed; shared because the exposer holds a weak_ptr.
const std::shared_ptr<prometheus::Registry>& SharedRegistry() {
  static auto* const registry =
      new std::shared_ptr<prometheus::Registry>(std::make_shared<prometheus::Registry>());
  return *registry;
}

// Collects nothing: runs the scrape hooks. Registered before the registry, whose
// figures the exposer then collects in the same scrape.
class ScrapeHooks final : public prometheus::Collectable {
 public:
  void Add(std::function<void()> hook) {
    std::lock_guard<std::mutex> lock(mu_);
    hooks_.push_back(std::move(hook));
  }
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<std::function<void()>> hooks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      hooks = hooks_;
    }
    for (const auto& hook : hooks) hook();
    return {};
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::function<void()>> hooks_;
};

const std::shared_ptr<ScrapeHooks>& Hooks() {
  static auto* const hooks = new std::shared_ptr<ScrapeHooks>(std::make_shared<ScrapeHooks>());
  return *hooks;
}

class Endpoint final : public MetricsEndpoint {
 public:
  explicit Endpoint(std::unique_ptr<prometheus::Exposer> exposer) : exposer_(std::move(exposer)) {
    exposer_->RegisterCollectable(Hooks());
    exposer_->RegisterCollectable(registry_);
  }
  int port() const override {
    const std::vector<int> ports = exposer_->GetListeningPorts();
    return ports.empty() ? 0 : ports.front();
  }

 private:
  std::shared_ptr<prometheus::Registry> registry_ = SharedRegistry();
  std::unique_ptr<prometheus::Exposer> exposer_;
};

// Registry::Add is not idempotent across threads racing on first use of a name.
std::mutex& FamilyMutex() {
  static auto* const mu = new std::mutex;
  return *mu;
}

}  // namespace

prometheus::Registry& MetricsRegistry() { return *SharedRegistry(); }

void AddScrapeHook(std::function<void()> hook) { Hooks()->Add(std::move(hook)); }

prometheus::Family<prometheus::Counter>& CounterFamily(const std::string& name,
                                                       const std::string& help) {
  std::lock_guard<std::mutex> lock(FamilyMutex());
  return prometheus::BuildCounter().Name(name).Help(help).Register(MetricsRegistry());
}

prometheus::Family<prometheus::Gauge>& GaugeFamily(const std::string& name,
                                                   const std::string& help) {
  std::lock_guard<std::mutex> lock(FamilyMutex());
  return prometheus::BuildGauge().Name(name).Help(help).Register(MetricsRegistry());
}

prometheus::Family<prometheus::Histogram>& HistogramFamily(const std::string& name,
                                                           const std::string& help) {
  std::lock_guard<std::mutex> lock(FamilyMutex());
  return prometheus::BuildHistogram().Name(name).Help(help).Register(MetricsRegistry());
}

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *buckets;
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> ServeMetrics(const std::string& host, int port) {
  const std::string address = absl::StrCat(host, ":", port);
  try {
    return std::unique_ptr<MetricsEndpoint>(
        new Endpoint(std::make_unique<prometheus::Exposer>(address, 2)));
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("metrics: cannot listen on ", address, ": ", e.what()));
  }
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> StartOperatorEndpoints() {
  if (absl::GetFlag(FLAGS_channelz)) grpc::channelz::experimental::InitChannelzService();
  const int port = absl::GetFlag(FLAGS_metrics_port);
  if (port == 0) return std::unique_ptr<MetricsEndpoint>();
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint =
      ServeMetrics(absl::GetFlag(FLAGS_metrics_host), port);
  if (endpoint.ok()) {
    LogInfo("metrics", {{"url", absl::StrCat("http://", absl::GetFlag(FLAGS_metrics_host), ":",
                                             (*endpoint)->port(), "/metrics")}});
  }
  return endpoint;
}

}  // namespace funnel::common
