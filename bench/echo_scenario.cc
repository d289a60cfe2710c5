// echo-direct and echo-gateway: the raw gRPC capacity of this machine (a service
// that does nothing) and what the gateway's hop costs on top of it. The gateway
// runs as in production (API key check, policy, principal stamping, byte
// forwarding) with its marketing backend pointed at the echo server, so the
// forwarded method is a real MarketingService path and only the backend's work is
// missing.
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "bench/scenario.h"
#include "funnel/marketing/v1/marketing_service.pb.h"
#include "tests/testing/harness.h"

namespace funnel::bench {
namespace {

constexpr char kMethod[] = "/funnel.marketing.v1.MarketingService/GetLead";

std::string GetLeadBytes(uint64_t seq) {
  marketing::v1::GetLeadRequest request;
  request.set_lead_id(static_cast<int64_t>(seq) + 1);
  return request.SerializeAsString();
}

}  // namespace

absl::StatusOr<v1::ScenarioResult> RunEcho(const BenchConfig& config) {
  testing::TempDir dir;
  testing::ChildProcess echo("funnel-echo",
                             {FUNNEL_ECHO_BIN, "--port_file=" + dir.path() + "/echo.port"});
  absl::StatusOr<int> echo_port =
      testing::WaitForPortFile(dir.path() + "/echo.port", absl::Seconds(20));
  if (!echo_port.ok()) return echo_port.status();
  const std::string keys = dir.path() + "/keys.txt";
  const std::string key = testing::MakeKey(keys, "MARKETING", "bench-echo", 0);
  const std::string echo_address = absl::StrCat("127.0.0.1:", *echo_port);
  testing::ChildProcess gateway(
      "gateway",
      {testing::BinaryPath("gateway"), "--port=0", "--port_file=" + dir.path() + "/gw.port",
       "--keys_file=" + keys, "--marketing_address=" + echo_address,
       "--sales_address=" + echo_address, "--internal_secret=bench"});
  absl::StatusOr<int> gw_port =
      testing::WaitForPortFile(dir.path() + "/gw.port", absl::Seconds(20));
  if (!gw_port.ok()) return gw_port.status();

  std::map<std::string, pid_t> watch = {
      {"funnel-echo", echo.pid()}, {"gateway", gateway.pid()}, {"funnel-bench", getpid()}};
  auto load = [&](const std::string& name, bool via_gateway, double rate) {
    LoadOptions o;
    o.label = name;
    o.target = absl::StrCat("127.0.0.1:", via_gateway ? *gw_port : *echo_port);
    o.method = kMethod;
    if (via_gateway) o.metadata = {{"authorization", "Bearer " + key}};
    o.concurrency = config.concurrency;
    o.rate = rate;
    o.warmup = config.warmup;
    o.duration = config.duration;
    o.watch = watch;
    return ToRun(name, o, RunLoad(o, GetLeadBytes));
  };

  v1::ScenarioResult result;
  result.set_scenario("echo");
  *result.add_runs() = load("echo-direct", false, 0);
  *result.add_runs() = load("echo-gateway", true, 0);
  // Half of what the gateway path sustains, offered to both paths: the latency the
  // hop adds when it is not saturated.
  const double half = std::max(1.0, result.runs(1).per_second() / 2);
  *result.add_runs() = load("echo-direct@half", false, half);
  *result.add_runs() = load("echo-gateway@half", true, half);
  if (config.smoke) {
    for (const v1::Run& run : result.runs()) RETURN_IF_ERROR(RequireNoErrors(run));
  }

  auto& figures = *result.mutable_figures();
  const double direct = result.runs(0).per_second();
  figures["throughput_ratio"] = direct > 0 ? result.runs(1).per_second() / direct : 0;
  figures["half_load_rate"] = half;
  figures["added_p50_us"] = result.runs(3).latency().p50_us() - result.runs(2).latency().p50_us();
  figures["added_p99_us"] = result.runs(3).latency().p99_us() - result.runs(2).latency().p99_us();
  result.add_notes(absl::StrCat("closed loop at ", config.concurrency,
                                " calls in flight over 4 connections; half load is open loop at ",
                                static_cast<int64_t>(half), " calls/s on both paths"));
  result.set_command(ReproduceCommand(config, "echo"));
  return result;
}

}  // namespace funnel::bench
