#include "bench/scenario.h"

#include <unistd.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace funnel::bench {

void BenchConfig::MakeSmoke() {
  smoke = true;
  warmup = absl::Milliseconds(200);
  duration = absl::Seconds(1);
  concurrency = 4;
  handoff_rate = 50;
  report_leads = 6'000;  // enough decided handoffs to calibrate from
  report_touchpoints = 20'000;
  report_opportunities = 200;
  scale_leads = 5'000;
  import_rows = 500;
}

const std::vector<Scenario>& Scenarios() {
  static const auto* const kScenarios = new std::vector<Scenario>{
      {"echo",
       "echo service called directly, through HAProxy and through the gateway (echo-direct, "
       "echo-haproxy, echo-gateway)",
       RunEcho},
      {"capture", "CaptureLead through the gateway, new emails, closed loop", RunCapture},
      {"db-baseline", "sysbench oltp_insert on the same MariaDB at the same concurrency",
       RunDbBaseline},
      {"touch", "RecordTouchpoint on existing leads (read-modify-write with scoring)", RunTouch},
      {"handoff-lag", "QualifyLead at a fixed rate; qualifying commit -> sales inbox row",
       RunHandoffLag},
      {"report", "GetFunnelReport and GetCampaignMetrics over a seeded volume", RunReport},
      {"scale", "capture rate on an empty leads table vs a large one", RunScale},
      {"import", "ImportLeads streaming throughput", RunImport},
  };
  return *kScenarios;
}

v1::Latency ToLatency(const LatencyHistogram& h) {
  v1::Latency l;
  l.set_count(h.count());
  l.set_min_us(static_cast<double>(h.min()) / 1e3);
  l.set_p50_us(static_cast<double>(h.Percentile(0.50)) / 1e3);
  l.set_p90_us(static_cast<double>(h.Percentile(0.90)) / 1e3);
  l.set_p99_us(static_cast<double>(h.Percentile(0.99)) / 1e3);
  l.set_p999_us(static_cast<double>(h.Percentile(0.999)) / 1e3);
  l.set_max_us(static_cast<double>(h.max()) / 1e3);
  return l;
}

v1::Run ToRun(const std::string& name, const LoadOptions& options, const LoadResult& load) {
  v1::Run run;
  run.set_name(name);
  run.set_method(options.method);
  run.set_mode(options.rate > 0 ? "open" : "closed");
  run.set_concurrency(options.rate > 0 ? 0 : options.concurrency);
  run.set_target_rate(options.rate);
  run.set_seconds(load.seconds);
  run.set_ok(load.ok);
  run.set_per_second(load.calls_per_second());
  for (const auto& [code, n] : load.errors) (*run.mutable_errors())[code] = n;
  *run.mutable_latency() = ToLatency(*load.latency);
  for (const auto& [process, seconds] : load.cpu_seconds)
    (*run.mutable_cpu_seconds())[process] = seconds;
  return run;
}

std::map<std::string, pid_t> WatchedProcesses(testing::FunnelStack& stack,
                                              const BenchConfig& config) {
  std::map<std::string, pid_t> watch = {
      {"gateway", stack.gateway().pid()},
      {"marketing_service", stack.marketing().pid()},
      {"sales_service", stack.sales().pid()},
      {"funnel-bench", getpid()},
  };
  if (config.db_pid > 0) watch["mariadb"] = config.db_pid;
  return watch;
}

LoadOptions GatewayLoad(const testing::FunnelStack& stack, const BenchConfig& config,
                        const std::string& label, const std::string& method,
                        const std::string& key) {
  LoadOptions o;
  o.label = label;
  o.target = absl::StrCat("127.0.0.1:", stack.gateway_port());
  o.method = method;
  o.metadata = {{"authorization", absl::StrCat("Bearer ", key)}};
  o.concurrency = config.concurrency;
  o.warmup = config.warmup;
  o.duration = config.duration;
  return o;
}

std::string ReproduceCommand(const BenchConfig& config, const std::string& scenario) {
  return absl::StrCat("./dev bench ", scenario, config.flags.empty() ? "" : " ", config.flags);
}

absl::Status RequireNoErrors(const v1::Run& run) {
  if (run.errors().empty()) return absl::OkStatus();
  std::vector<std::string> parts;
  for (const auto& [code, n] : run.errors()) parts.push_back(absl::StrCat(code, " x", n));
  return absl::InternalError(
      absl::StrCat(run.name(), ": calls failed: ", absl::StrJoin(parts, ", ")));
}

double TimeSeconds(const std::function<void()>& fn) {
  const auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace funnel::bench
