#pragma once

// The load generator: unary calls from one process without a thread per call (gRPC's
// callback API), in one of two modes:
//  - closed loop: `concurrency` calls always in flight, each started when another ends;
//  - open loop: calls started at `rate` per second on a fixed schedule, each call's
//    latency measured from when it was *meant* to start, so a stalled server shows
//    up as latency instead of silently lowering the rate (no coordinated omission).
// Only calls that end inside the measured window (after the warm-up) count.

#include <grpcpp/channel.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "bench/histogram.h"

namespace funnel::bench {

struct LoadOptions {
  std::string label;   // for the progress line
  std::string target;  // host:port
  std::string method;  // "/pkg.Service/Method"
  std::vector<std::pair<std::string, std::string>> metadata;
  int concurrency = 0;  // > 0: closed loop
  double rate = 0;      // > 0: open loop, calls per second
  int channels = 4;     // separate connections, calls spread over them
  absl::Duration warmup = absl::Seconds(2);
  absl::Duration duration = absl::Seconds(10);
  absl::Duration deadline = absl::Seconds(30);
  // Open loop: calls allowed in flight before new ones are counted as
  // CLIENT_BACKLOG instead of being sent (bounds memory when the server stalls).
  int max_in_flight = 20000;
  // Processes whose CPU time over the measured window is reported, by name.
  std::map<std::string, pid_t> watch;
  // Called as the measured window opens and as it closes, to read a server's own
  // counters over exactly that window (Galera's, say); may be empty.
  std::function<void()> on_window_open;
  std::function<void()> on_window_close;
};

// Serialized request for call number `seq` (0-based, unique per run).
using RequestFactory = std::function<std::string(uint64_t seq)>;

struct LoadResult {
  int64_t ok = 0;
  std::map<std::string, int64_t> errors;  // by status code name
  double seconds = 0;                     // length of the measured window
  std::map<std::string, double> cpu_seconds;
  std::unique_ptr<LatencyHistogram> latency = std::make_unique<LatencyHistogram>();

  int64_t error_count() const;
  double calls_per_second() const { return seconds > 0 ? static_cast<double>(ok) / seconds : 0; }
};

LoadResult RunLoad(const LoadOptions& options, const RequestFactory& request);

}  // namespace funnel::bench
