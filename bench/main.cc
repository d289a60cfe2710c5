// funnel-bench: Funnel's load generator and benchmark scenarios.
//   funnel-bench [--smoke] [flags] all | SCENARIO...
// Each scenario starts what it measures (services on fresh databases of the
// MariaDB named by FUNNEL_TEST_DB_*, which `./dev bench` and `./dev test` start),
// prints one summary line per run, writes its result as JSON to --out_dir, and
// with --markdown the whole run becomes BENCHMARKS.md.
#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <fstream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "bench/report.h"
#include "bench/scenario.h"
#include "common/flags.h"
#include "tests/testing/harness.h"

ABSL_FLAG(bool, smoke, false, "Tiny volumes and one-second runs; checks the bench still works.");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(3), "Warm-up before each measured window.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(15), "Length of each measured window.");
ABSL_FLAG(int, concurrency, 32, "Calls in flight for closed-loop runs (and sysbench threads).");
ABSL_FLAG(double, handoff_rate, 500, "handoff-lag: leads qualified per second.");
ABSL_FLAG(int64_t, report_leads, 1'000'000, "report: leads seeded.");
ABSL_FLAG(int64_t, report_touchpoints, 10'000'000, "report: touchpoints seeded.");
ABSL_FLAG(int64_t, report_opportunities, 100'000, "report: opportunities seeded.");
ABSL_FLAG(int64_t, scale_leads, 5'000'000, "scale: leads seeded before the second capture run.");
ABSL_FLAG(int64_t, import_rows, 30'000, "import: rows per run (split over the streams).");
ABSL_FLAG(int, db_pid, 0, "MariaDB's pid, to report its CPU time (FUNNEL_DB_PID).");
ABSL_FLAG(std::string, out_dir, "", "Write each scenario's result as <out_dir>/<scenario>.json.");
ABSL_FLAG(std::string, markdown, "", "Write the run's report (BENCHMARKS.md) here.");
ABSL_FLAG(std::string, reproduce_flags, "", "Flags to show in the report's reproduce commands.");

namespace {

using funnel::bench::BenchConfig;

BenchConfig ConfigFromFlags() {
  BenchConfig c;
  c.warmup = absl::GetFlag(FLAGS_warmup);
  c.duration = absl::GetFlag(FLAGS_duration);
  c.concurrency = absl::GetFlag(FLAGS_concurrency);
  c.handoff_rate = absl::GetFlag(FLAGS_handoff_rate);
  c.report_leads = absl::GetFlag(FLAGS_report_leads);
  c.report_touchpoints = absl::GetFlag(FLAGS_report_touchpoints);
  c.report_opportunities = absl::GetFlag(FLAGS_report_opportunities);
  c.scale_leads = absl::GetFlag(FLAGS_scale_leads);
  c.import_rows = absl::GetFlag(FLAGS_import_rows);
  if (absl::GetFlag(FLAGS_smoke)) c.MakeSmoke();
  c.db_pid = absl::GetFlag(FLAGS_db_pid);
  c.run_id = absl::StrCat(absl::ToUnixMillis(absl::Now()));
  c.flags = absl::GetFlag(FLAGS_reproduce_flags);
  return c;
}

std::string ToJson(const funnel::bench::v1::ScenarioResult& result) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(result, &json, options);
  return json;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args = funnel::common::ParseFlags(
      argc, argv, "funnel-bench [--smoke] [flags] all | SCENARIO...   (see ./dev bench)");
  std::vector<std::string> names(args.begin() + 1, args.end());
  const auto& scenarios = funnel::bench::Scenarios();
  if (names.empty() || (names.size() == 1 && names[0] == "all")) {
    names.clear();
    for (const auto& s : scenarios) names.push_back(s.name);
  }
  std::vector<const funnel::bench::Scenario*> chosen;
  for (const std::string& name : names) {
    // The echo paths are measured together (each needs the others' figures).
    const std::string key =
        name == "echo-direct" || name == "echo-haproxy" || name == "echo-gateway" ? "echo" : name;
    const funnel::bench::Scenario* found = nullptr;
    for (const auto& s : scenarios) {
      if (key == s.name) found = &s;
    }
    if (found == nullptr) {
      std::fprintf(stderr, "funnel-bench: unknown scenario %s; scenarios:\n", name.c_str());
      for (const auto& s : scenarios) std::fprintf(stderr, "  %-12s %s\n", s.name, s.what);
      return 2;
    }
    if (std::find(chosen.begin(), chosen.end(), found) == chosen.end()) chosen.push_back(found);
  }

  const BenchConfig config = ConfigFromFlags();
  std::vector<funnel::bench::v1::ScenarioResult> results;
  int failures = 0;
  for (const funnel::bench::Scenario* s : chosen) {
    std::fprintf(stderr, "== %s: %s%s\n", s->name, s->what, config.smoke ? " (smoke)" : "");
    absl::StatusOr<funnel::bench::v1::ScenarioResult> result = s->run(config);
    if (!result.ok()) {
      std::fprintf(stderr, "== %s FAILED: %s\n", s->name, result.status().ToString().c_str());
      ++failures;
      continue;
    }
    result->set_smoke(config.smoke);
    for (const auto& run : result->runs())
      std::printf("%s\n", funnel::bench::SummaryLine(run).c_str());
    for (const auto& [name, value] : result->figures())
      std::printf("  %s = %g\n", name.c_str(), value);
    std::fflush(stdout);
    if (const std::string dir = absl::GetFlag(FLAGS_out_dir); !dir.empty()) {
      std::ofstream(absl::StrCat(dir, "/", s->name, ".json")) << ToJson(*result);
    }
    results.push_back(*std::move(result));
  }

  if (const std::string path = absl::GetFlag(FLAGS_markdown); !path.empty() && failures == 0) {
    funnel::testing::TestDatabase probe("bench_version");
    const std::vector<std::string> version = probe.QueryStrings("SELECT VERSION()");
    const std::string command =
        absl::StrCat("./dev bench", config.flags.empty() ? "" : " ", config.flags);
    std::ofstream(path) << funnel::bench::RenderMarkdown(
        funnel::bench::DescribeMachine(version.empty() ? "unknown" : version[0]), results, command);
    std::fprintf(stderr, "== wrote %s\n", path.c_str());
  }
  if (failures > 0) std::fprintf(stderr, "== %d scenario(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}
