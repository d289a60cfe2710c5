#include "bench/report.h"

#include <google/protobuf/stubs/common.h>
#include <grpcpp/grpcpp.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace funnel::bench {
namespace {

// The value of the first "key: value" or key="value" line of a file.
std::string FirstLineWith(const std::string& path, absl::string_view key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, key)) continue;
    rest = absl::StripAsciiWhitespace(rest);
    if (!absl::ConsumePrefix(&rest, ":")) absl::ConsumePrefix(&rest, "=");
    rest = absl::StripAsciiWhitespace(rest);
    absl::ConsumePrefix(&rest, "\"");
    absl::ConsumeSuffix(&rest, "\"");
    return std::string(rest);
  }
  return "unknown";
}

const v1::ScenarioResult* Find(const std::vector<v1::ScenarioResult>& results,
                               const std::string& name) {
  for (const auto& r : results) {
    if (r.scenario() == name) return &r;
  }
  return nullptr;
}

const v1::Run* FindRun(const v1::ScenarioResult* result, const std::string& name) {
  if (result == nullptr) return nullptr;
  for (const auto& run : result->runs()) {
    if (run.name() == name) return &run;
  }
  return nullptr;
}

std::string Number(double v) {
  if (std::fabs(v) >= 100) return absl::StrFormat("%.0f", v);
  if (std::fabs(v) >= 10) return absl::StrFormat("%.1f", v);
  return absl::StrFormat("%.2f", v);
}

std::string Millis(double us) { return Number(us / 1e3); }

std::string Errors(const v1::Run& run) {
  if (run.errors().empty()) return "0";
  std::vector<std::string> parts;
  for (const auto& [code, n] : run.errors()) parts.push_back(absl::StrCat(code, " ", n));
  return absl::StrJoin(parts, ", ");
}

// CPU of every watched process per successful call (or row), in microseconds.
double CpuMicrosPerCall(const v1::Run& run) {
  double seconds = 0;
  for (const auto& [process, s] : run.cpu_seconds()) seconds += s;
  return run.ok() > 0 ? 1e6 * seconds / run.ok() : 0;
}

std::string Cpu(const v1::Run& run) {
  std::vector<std::string> parts;
  for (const auto& [process, s] : run.cpu_seconds())
    parts.push_back(absl::StrFormat("%s %.1f", process, s));
  return parts.empty() ? "-" : absl::StrJoin(parts, ", ");
}

}  // namespace

Machine DescribeMachine(const std::string& mariadb_version) {
  Machine m;
  m.cpu = FirstLineWith("/proc/cpuinfo", "model name");
  m.cores = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  double kib = 0;
  meminfo >> key >> kib;
  m.memory_gib = kib / (1024.0 * 1024.0);
  utsname u{};
  uname(&u);
  m.kernel = absl::StrCat(u.sysname, " ", u.release, " ", u.machine);
  m.os = FirstLineWith("/etc/os-release", "PRETTY_NAME");
  m.mariadb = mariadb_version;
  m.grpc = grpc::Version();
  m.protobuf = google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION);
  m.compiler = absl::StrCat("g++ ", __VERSION__);
  m.date = absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::Now(), absl::UTCTimeZone());
  return m;
}

std::string SummaryLine(const v1::Run& run) {
  const v1::Latency& l = run.latency();
  return absl::StrFormat(
      "%-28s %10.1f/s  p50 %s ms  p90 %s ms  p99 %s ms  p99.9 %s ms  max %s ms  errors %s",
      run.name(), run.per_second(), Millis(l.p50_us()), Millis(l.p90_us()), Millis(l.p99_us()),
      Millis(l.p999_us()), Millis(l.max_us()), Errors(run));
}

std::vector<TargetCheck> CheckTargets(const std::vector<v1::ScenarioResult>& results) {
  std::vector<TargetCheck> checks;
  auto add = [&](std::string what, std::string target, double measured, std::string unit,
                 bool higher_is_better, double bound) {
    checks.push_back(
        {std::move(what), std::move(target), measured, std::move(unit), higher_is_better, bound});
  };
  // The door's targets are ratios against HAProxy in the same window (issue: a
  // gateway hop as cheap as HAProxy's); a figure missing from an older result is kNotRun.
  const v1::ScenarioResult* echo = Find(results, "echo");
  auto echo_figure = [&](const char* name) {
    if (echo == nullptr) return kNotRun;
    auto it = echo->figures().find(name);
    return it == echo->figures().end() ? kNotRun : it->second;
  };
  add("gateway throughput / echo-haproxy", ">= 100%",
      100 * echo_figure("gateway_over_haproxy_throughput"), "%", true, 100);
  add("gateway CPU per call / HAProxy's", "<= 1.5x", echo_figure("gateway_over_haproxy_cpu"), "x",
      false, 1.5);
  const double haproxy_p50 = echo_figure("haproxy_added_p50_us");
  add("gateway added p50 at half load - HAProxy's", "<= 50 us",
      echo_figure("added_p50_us") - haproxy_p50, "us", false, 50);
  const v1::Run* capture = FindRun(Find(results, "capture"), "capture");
  const v1::Run* baseline = FindRun(Find(results, "db-baseline"), "db-baseline");
  add("capture / db-baseline inserts/s", ">= 35%",
      capture && baseline && baseline->per_second() > 0
          ? 100 * capture->per_second() / baseline->per_second()
          : kNotRun,
      "%", true, 35);
  add("capture CPU per call, all processes", "<= 300 us",
      capture ? CpuMicrosPerCall(*capture) : kNotRun, "us", false, 300);
  add("capture p99", "<= 25 ms", capture ? capture->latency().p99_us() / 1e3 : kNotRun, "ms", false,
      25);
  int64_t capture_errors = 0;
  if (capture) {
    for (const auto& [code, n] : capture->errors()) capture_errors += n;
  }
  add("capture errors", "0", capture ? static_cast<double>(capture_errors) : kNotRun, "", false, 0);
  const v1::Run* lag = FindRun(Find(results, "handoff-lag"), "handoff-lag");
  add("handoff-lag p99 at the target rate", "<= 250 ms",
      lag ? lag->latency().p99_us() / 1e3 : kNotRun, "ms", false, 250);
  const v1::ScenarioResult* report = Find(results, "report");
  const v1::Run* funnel = FindRun(report, "GetFunnelReport");
  const v1::Run* metrics = FindRun(report, "GetCampaignMetrics");
  add("GetFunnelReport p50", "<= 200 ms", funnel ? funnel->latency().p50_us() / 1e3 : kNotRun, "ms",
      false, 200);
  add("GetCampaignMetrics p50", "<= 50 ms", metrics ? metrics->latency().p50_us() / 1e3 : kNotRun,
      "ms", false, 50);
  const v1::ScenarioResult* scale = Find(results, "scale");
  add("capture rate at scale / empty", ">= 80%",
      scale ? 100 * scale->figures().at("rate_ratio") : kNotRun, "%", true, 80);
  const v1::Run* import = FindRun(Find(results, "import"), "import-1-stream");
  add("ImportLeads rows/s (one stream)", ">= 20000", import ? import->per_second() : kNotRun,
      "rows/s", true, 20000);
  return checks;
}

std::string RenderMarkdown(const Machine& m, const std::vector<v1::ScenarioResult>& results,
                           const std::string& command) {
  std::string md = "# Funnel benchmarks\n\n";
  absl::StrAppend(&md, "Written by `", command, "` on ", m.date,
                  ". Every figure below comes from that one run; targets are ratios or bounds "
                  "checked against figures of the same run. Absolute numbers drift between runs "
                  "and machines; rerun before comparing.\n\n");
  absl::StrAppend(&md, "## Machine\n\n| | |\n|---|---|\n");
  absl::StrAppend(&md, "| CPU | ", m.cpu, " |\n| cores | ", m.cores, " |\n",
                  absl::StrFormat("| memory | %.1f GiB |\n", m.memory_gib), "| OS | ", m.os,
                  " |\n| kernel | ", m.kernel, " |\n| MariaDB | ", m.mariadb, " |\n| gRPC | ",
                  m.grpc, " |\n| protobuf | ", m.protobuf, " |\n| compiler | ", m.compiler,
                  " |\n\n");
  absl::StrAppend(
      &md,
      "The load generator (`funnel-bench`), MariaDB and every service share these cores, "
      "so each run's CPU seconds are listed per process.\n\n");

  absl::StrAppend(&md,
                  "## Targets\n\n| target | bound | measured | verdict |\n|---|---|---|---|\n");
  for (const TargetCheck& c : CheckTargets(results)) {
    std::string measured = "not run";
    std::string verdict = "-";
    if (!std::isnan(c.measured)) {
      measured = absl::StrCat(Number(c.measured), c.unit.empty() ? "" : " ", c.unit);
      const bool met = c.higher_is_better ? c.measured >= c.bound : c.measured <= c.bound;
      if (met) {
        verdict = "met";
      } else if (c.bound == 0) {
        verdict = "**missed**";
      } else {
        const double off = c.higher_is_better ? (c.bound - c.measured) / c.bound
                                              : (c.measured - c.bound) / c.bound;
        verdict = absl::StrFormat("**missed by %.0f%%**", 100 * off);
      }
    }
    absl::StrAppend(&md, "| ", c.what, " | ", c.target, " | ", measured, " | ", verdict, " |\n");
  }
  absl::StrAppend(&md,
                  "\nWhy each missed target is missed (profiles, round trips, CPU per call) and "
                  "what was changed to get here: `bench/ANALYSIS.md`, written by hand for the "
                  "committed run.\n");
  absl::StrAppend(&md,
                  "\n## Scenarios\n\nLatency in milliseconds; CPU in seconds over the measured "
                  "window, per process, and in microseconds per call summed over them.\n");
  for (const v1::ScenarioResult& r : results) {
    absl::StrAppend(&md, "\n### ", r.scenario(), "\n\n");
    for (const std::string& note : r.notes()) absl::StrAppend(&md, "- ", note, "\n");
    absl::StrAppend(&md, "- reproduce: `", r.command(), "`\n\n");
    absl::StrAppend(
        &md,
        "| run | mode | calls/s | p50 | p90 | p99 | p99.9 | max | errors | CPU us/call | CPU s "
        "|\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (const v1::Run& run : r.runs()) {
      const v1::Latency& l = run.latency();
      const std::string mode = run.mode() == "open"
                                   ? absl::StrCat("open ", Number(run.target_rate()), "/s")
                                   : absl::StrCat(run.mode(), " ", run.concurrency());
      absl::StrAppend(&md, "| ", run.name(), " | ", mode, " | ", Number(run.per_second()), " | ",
                      Millis(l.p50_us()), " | ", Millis(l.p90_us()), " | ", Millis(l.p99_us()),
                      " | ", Millis(l.p999_us()), " | ", Millis(l.max_us()), " | ", Errors(run),
                      " | ", Number(CpuMicrosPerCall(run)), " | ", Cpu(run), " |\n");
    }
    if (!r.figures().empty()) {
      absl::StrAppend(&md, "\n");
      std::vector<std::string> names;
      for (const auto& [name, value] : r.figures()) names.push_back(name);
      std::sort(names.begin(), names.end());
      for (const std::string& name : names) {
        absl::StrAppend(&md, "- ", name, ": ", Number(r.figures().at(name)), "\n");
      }
    }
  }
  return md;
}

}  // namespace funnel::bench
