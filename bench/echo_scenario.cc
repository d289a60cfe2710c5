// echo-direct, echo-haproxy and echo-gateway: the raw gRPC capacity of this
// machine (a service that does nothing), what a plain HTTP/2 proxy's hop costs on
// top of it, and what the gateway's hop costs. The gateway runs as in production
// (API key check, policy, principal stamping, byte forwarding) with its marketing
// backend pointed at the echo server, so the forwarded method is a real
// MarketingService path and only the backend's work is missing. HAProxy (Debian's,
// `proto h2` on both sides) is the yardstick: it relays frames and reads headers
// only, which is the least any door can do, so the gateway's targets are ratios
// against it measured in the same window.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/scenario.h"
#include "funnel/marketing/v1/marketing_service.pb.h"
#include "tests/testing/harness.h"

namespace funnel::bench {
namespace {

constexpr char kMethod[] = "/funnel.marketing.v1.MarketingService/GetLead";
constexpr char kHaproxy[] = "/usr/sbin/haproxy";

std::string GetLeadBytes(uint64_t seq) {
  marketing::v1::GetLeadRequest request;
  request.set_lead_id(static_cast<int64_t>(seq) + 1);
  return request.SerializeAsString();
}

// HAProxy with as many threads as the gateway's gRPC server polls with (one per
// core), relaying h2 to the echo server over pooled backend connections.
std::string HaproxyConfig(int port, const std::string& echo_address) {
  return absl::StrCat("global\n  nbthread ", std::max(1u, std::thread::hardware_concurrency()),
                      "\n  maxconn 4096\n"
                      "defaults\n  mode http\n  timeout connect 5s\n  timeout client 60s\n"
                      "  timeout server 60s\n"
                      "frontend door\n  bind 127.0.0.1:",
                      port,
                      " proto h2\n  default_backend echo\n"
                      "backend echo\n  server echo ",
                      echo_address, " proto h2\n");
}

// Ready once a gRPC channel through it reaches READY (HTTP/2 settings exchanged).
absl::Status WaitForH2(int port) {
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  if (channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(20))) {
    return absl::OkStatus();
  }
  return absl::UnavailableError(absl::StrCat("haproxy did not listen on port ", port));
}

// "HAProxy 2.6.12-1+deb12u4" (the first line of `haproxy -v`, cut at its date).
std::string HaproxyVersion() {
  const std::string first = testing::RunCommand(absl::StrCat(kHaproxy, " -v")).output;
  const std::vector<std::string> words = absl::StrSplit(first.substr(0, first.find('\n')), ' ');
  return words.size() >= 3 ? absl::StrCat("HAProxy ", words[2]) : "HAProxy";
}

double CpuMicrosPerCall(const v1::Run& run, const std::string& process) {
  auto it = run.cpu_seconds().find(process);
  return it == run.cpu_seconds().end() || run.ok() == 0 ? 0 : 1e6 * it->second / run.ok();
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
  if (access(kHaproxy, X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(kHaproxy, " is missing: ./dev bench and ./dev test install haproxy"));
  }
  const int haproxy_port = testing::FreePort();
  const std::string haproxy_config = dir.path() + "/haproxy.cfg";
  std::ofstream(haproxy_config) << HaproxyConfig(haproxy_port, echo_address);
  testing::ChildProcess haproxy("haproxy", {kHaproxy, "-db", "-f", haproxy_config});
  if (absl::Status ready = WaitForH2(haproxy_port); !ready.ok()) {
    return absl::UnavailableError(absl::StrCat(ready.message(), ": ", haproxy.Log()));
  }

  std::map<std::string, pid_t> watch = {{"funnel-echo", echo.pid()},
                                        {"gateway", gateway.pid()},
                                        {"haproxy", haproxy.pid()},
                                        {"funnel-bench", getpid()}};
  enum class Path { kDirect, kHaproxy, kGateway };
  auto load = [&](const std::string& name, Path path, double rate) {
    LoadOptions o;
    o.label = name;
    o.target = absl::StrCat("127.0.0.1:", path == Path::kDirect    ? *echo_port
                                          : path == Path::kHaproxy ? haproxy_port
                                                                   : *gw_port);
    o.method = kMethod;
    if (path == Path::kGateway) o.metadata = {{"authorization", "Bearer " + key}};
    o.concurrency = config.concurrency;
    o.rate = rate;
    o.warmup = config.warmup;
    o.duration = config.duration;
    o.watch = watch;
    return ToRun(name, o, RunLoad(o, GetLeadBytes));
  };

  v1::ScenarioResult result;
  result.set_scenario("echo");
  const v1::Run& direct = *result.add_runs() = load("echo-direct", Path::kDirect, 0);
  const v1::Run& via_haproxy = *result.add_runs() = load("echo-haproxy", Path::kHaproxy, 0);
  const v1::Run& via_gateway = *result.add_runs() = load("echo-gateway", Path::kGateway, 0);
  // Half of what the slower hop sustains, offered to every path: the latency each
  // hop adds when it is not saturated.
  const double half =
      std::max(1.0, std::min(via_haproxy.per_second(), via_gateway.per_second()) / 2);
  const v1::Run& direct_half = *result.add_runs() = load("echo-direct@half", Path::kDirect, half);
  const v1::Run& haproxy_half = *result.add_runs() =
      load("echo-haproxy@half", Path::kHaproxy, half);
  const v1::Run& gateway_half = *result.add_runs() =
      load("echo-gateway@half", Path::kGateway, half);
  if (config.smoke) {
    for (const v1::Run& run : result.runs()) RETURN_IF_ERROR(RequireNoErrors(run));
  }

  auto& figures = *result.mutable_figures();
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0; };
  figures["throughput_ratio"] = ratio(via_gateway.per_second(), direct.per_second());
  figures["haproxy_throughput_ratio"] = ratio(via_haproxy.per_second(), direct.per_second());
  figures["gateway_over_haproxy_throughput"] =
      ratio(via_gateway.per_second(), via_haproxy.per_second());
  figures["gateway_cpu_us_per_call"] = CpuMicrosPerCall(via_gateway, "gateway");
  figures["haproxy_cpu_us_per_call"] = CpuMicrosPerCall(via_haproxy, "haproxy");
  figures["gateway_over_haproxy_cpu"] =
      ratio(figures["gateway_cpu_us_per_call"], figures["haproxy_cpu_us_per_call"]);
  figures["half_load_rate"] = half;
  figures["added_p50_us"] = gateway_half.latency().p50_us() - direct_half.latency().p50_us();
  figures["added_p99_us"] = gateway_half.latency().p99_us() - direct_half.latency().p99_us();
  figures["haproxy_added_p50_us"] =
      haproxy_half.latency().p50_us() - direct_half.latency().p50_us();
  figures["haproxy_added_p99_us"] =
      haproxy_half.latency().p99_us() - direct_half.latency().p99_us();
  result.add_notes(absl::StrCat("closed loop at ", config.concurrency,
                                " calls in flight over 4 connections; half load is open loop at ",
                                static_cast<int64_t>(half),
                                " calls/s on every path (half the slower hop's rate)"));
  result.add_notes(absl::StrCat(
      "echo-haproxy: ", HaproxyVersion(), " from Debian, proto h2 on both sides, nbthread ",
      std::max(1u, std::thread::hardware_concurrency()),
      " (one per core, as the gateway's gRPC server polls); CPU per call is the proxy's CPU "
      "seconds over its closed-loop calls"));
  result.set_command(ReproduceCommand(config, "echo"));
  return result;
}

}  // namespace funnel::bench
