#pragma once

// Prometheus metrics of a Funnel binary (prometheus-cpp, from Debian). Every
// metric lives in the process's one registry; each binary serves it as text at
// http://<--metrics_host>:<--metrics_port>/metrics when the port is set.
//
// Names follow Prometheus' conventions: the funnel_ prefix, base units (seconds,
// bytes), _total on counters. A metric is defined where its figure is made, as a
// function-local static, e.g.:
//   static prometheus::Family<prometheus::Counter>& captures =
//       CounterFamily("funnel_leads_captured_total", "Leads captured, by outcome.");
//   captures.Add({{"outcome", "created"}}).Increment();

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace funnel::common {

prometheus::Registry& MetricsRegistry();

// A family registered once under `name` (later calls return the same family).
prometheus::Family<prometheus::Counter>& CounterFamily(const std::string& name,
                                                       const std::string& help);
prometheus::Family<prometheus::Gauge>& GaugeFamily(const std::string& name,
                                                   const std::string& help);
prometheus::Family<prometheus::Histogram>& HistogramFamily(const std::string& name,
                                                           const std::string& help);

// Bucket bounds in seconds for latencies from 0.5 ms to 10 s.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

// Runs `hook` at the start of every scrape, on the metrics server's thread: for a
// gauge whose figure has to be read when asked (a count in the database). Keep it
// quick and bounded; a hook must stay callable for the process's life (capture a
// weak_ptr to what it reads).
void AddScrapeHook(std::function<void()> hook);

// The HTTP endpoint that serves the registry, for as long as it lives.
class MetricsEndpoint {
 public:
  virtual ~MetricsEndpoint() = default;
  virtual int port() const = 0;
};

// Serves the registry at http://host:port/metrics (port 0: a free one).
// UNAVAILABLE naming the address when it cannot be bound.
absl::StatusOr<std::unique_ptr<MetricsEndpoint>> ServeMetrics(const std::string& host, int port);

// What every binary's main() calls after parsing flags: serves the registry on
// --metrics_host:--metrics_port (nothing when the port is 0, the default) and
// turns on gRPC's channelz service with --channelz, for the servers built after it.
// The endpoint is null when metrics are off.
absl::StatusOr<std::unique_ptr<MetricsEndpoint>> StartOperatorEndpoints();

}  // namespace funnel::common
