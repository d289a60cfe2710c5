#pragma once

// What every scenario shares: the run's settings, the registry funnel-bench picks
// scenarios from, and helpers that turn a load into a result.

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/load.h"
#include "common/status.h"
#include "funnel/bench/v1/result.pb.h"
#include "tests/testing/stack.h"

namespace funnel::bench {

struct BenchConfig {
  bool smoke = false;
  absl::Duration warmup = absl::Seconds(3);
  absl::Duration duration = absl::Seconds(15);
  int concurrency = 32;
  double handoff_rate = 500;
  int64_t report_leads = 1'000'000;
  int64_t report_touchpoints = 10'000'000;
  int64_t report_opportunities = 100'000;
  int64_t scale_leads = 5'000'000;
  int64_t import_rows = 30'000;
  pid_t db_pid = 0;    // MariaDB's pid, for its CPU time; 0 when unknown
  std::string run_id;  // makes emails unique across runs on one database server
  // The flags that were given, for the "reproduce" commands.
  std::string flags;

  // Smoke mode: every scenario runs end to end at tiny volume; figures mean nothing.
  void MakeSmoke();
};

using ScenarioFn = std::function<absl::StatusOr<v1::ScenarioResult>(const BenchConfig&)>;

struct Scenario {
  const char* name;
  const char* what;
  ScenarioFn run;
};

// Every scenario, in the order `all` runs them.
const std::vector<Scenario>& Scenarios();

// Scenario entry points (one file each, or a few that share a set-up).
absl::StatusOr<v1::ScenarioResult> RunEcho(const BenchConfig& config);
absl::StatusOr<v1::ScenarioResult> RunCapture(const BenchConfig& config);
absl::StatusOr<v1::ScenarioResult> RunDbBaseline(const BenchConfig& config);
absl::StatusOr<v1::ScenarioResult> RunTouch(const BenchConfig& config);
absl::StatusOr<v1::ScenarioResult> RunHandoffLag(const BenchConfig& config);
absl::StatusOr<v1::ScenarioResult> RunReport(const BenchConfig& config);
absl::StatusOr<v1::ScenarioResult> RunScale(const BenchConfig& config);
absl::StatusOr<v1::ScenarioResult> RunImport(const BenchConfig& config);

// A closed- or open-loop load's outcome as a result row.
v1::Run ToRun(const std::string& name, const LoadOptions& options, const LoadResult& load);
// Latency figures from a histogram of nanoseconds.
v1::Latency ToLatency(const LatencyHistogram& histogram);

// The processes whose CPU a run reports: the stack's three services, MariaDB and
// the load generator itself.
std::map<std::string, pid_t> WatchedProcesses(testing::FunnelStack& stack,
                                              const BenchConfig& config);

// Load options aimed at the stack's gateway with `key`, closed loop at the
// configured concurrency and durations.
LoadOptions GatewayLoad(const testing::FunnelStack& stack, const BenchConfig& config,
                        const std::string& label, const std::string& method,
                        const std::string& key);

// "./dev bench NAME" plus the flags in force.
std::string ReproduceCommand(const BenchConfig& config, const std::string& scenario);

// Fails unless the run had no errors; smoke runs use it so the bench cannot rot.
absl::Status RequireNoErrors(const v1::Run& run);

// Times `fn` and returns seconds.
double TimeSeconds(const std::function<void()>& fn);

}  // namespace funnel::bench
