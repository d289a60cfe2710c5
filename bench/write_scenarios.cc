// The write paths: capture (new leads), touch (existing leads), scale (capture on a
// large table) and the database's own ceiling for single-row durable inserts
// (sysbench oltp_insert), all at the same concurrency.
#include <unistd.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bench/galera_stats.h"
#include "bench/proc_stats.h"
#include "bench/scenario.h"
#include "bench/seed.h"
#include "funnel/marketing/v1/marketing_service.pb.h"

namespace funnel::bench {
namespace {

constexpr char kCapture[] = "/funnel.marketing.v1.MarketingService/CaptureLead";
constexpr char kTouch[] = "/funnel.marketing.v1.MarketingService/RecordTouchpoint";

RequestFactory NewLeads(const std::string& tag) {
  return [tag](uint64_t seq) {
    marketing::v1::CaptureLeadRequest request;
    request.mutable_contact()->set_email(absl::StrCat("cap-", tag, "-", seq, "@bench.example"));
    request.mutable_contact()->set_company(absl::StrCat("Company ", seq % 5000));
    request.mutable_contact()->set_industry("software");
    request.set_touchpoint_type(handoff::v1::TOUCHPOINT_TYPE_WEB_VISIT);
    return request.SerializeAsString();
  };
}

v1::Run MeasureCapture(testing::FunnelStack& stack, const BenchConfig& config,
                       const std::string& name) {
  LoadOptions o = GatewayLoad(stack, config, name, kCapture, stack.Key("MARKETING"));
  o.watch = WatchedProcesses(stack, config);
  return ToRun(name, o, RunLoad(o, NewLeads(absl::StrCat(config.run_id, "-", name))));
}

// The same capture load on the three-node Galera cluster `./dev bench --cluster`
// starts, with `replicas` marketing replicas each on a node of its own (sales on
// another), and the cluster's own counters over the window as "<name>.<figure>".
v1::Run MeasureClusterCapture(const BenchConfig& config,
                              const std::vector<common::DbOptions>& nodes, int replicas,
                              const std::string& name,
                              google::protobuf::Map<std::string, double>& figures) {
  testing::FunnelStack stack(
      absl::StrCat("bench_cluster", replicas),
      testing::StackOptions{.marketing_replicas = replicas, .cluster = nodes});
  LoadOptions o = GatewayLoad(stack, config, name, kCapture, stack.Key("MARKETING"));
  o.watch = WatchedProcesses(stack, config);
  o.watch.erase("mariadb");  // the single server, idle here
  if (replicas == 2) {
    o.watch["marketing_service-2"] = stack.process(testing::FunnelStack::kMarketing2).pid();
  }
  const std::vector<pid_t> pids = testing::TestClusterNodePids();
  for (size_t n = 0; n < pids.size(); ++n) {
    if (pids[n] > 0) o.watch[absl::StrCat("galera-node", n)] = pids[n];
  }
  std::vector<WsrepStatus> before, after;
  o.on_window_open = [&] { before = ReadWsrepStatus(nodes); };
  o.on_window_close = [&] { after = ReadWsrepStatus(nodes); };
  v1::Run run = ToRun(name, o, RunLoad(o, NewLeads(absl::StrCat(config.run_id, "-", name))));
  for (const auto& [figure, value] : GaleraWindowFigures(before, after, run.seconds())) {
    figures[absl::StrCat(name, ".", figure)] = value;
  }
  return run;
}

// "  transactions:   1234 (411.2 per sec.)" -> 1234 and 411.2; "min: 1.2" -> 1.2.
double SysbenchFigure(const std::string& output, absl::string_view label, bool rate) {
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, label)) continue;
    line = absl::StripAsciiWhitespace(line);
    if (rate) {
      const size_t open = line.find('(');
      if (open == absl::string_view::npos) return 0;
      line = line.substr(open + 1);
    }
    double value = 0;
    return absl::SimpleAtod(line.substr(0, line.find(' ')), &value) ? value : 0;
  }
  return 0;
}

}  // namespace

absl::StatusOr<v1::ScenarioResult> RunCapture(const BenchConfig& config) {
  testing::FunnelStack stack("bench_capture");
  v1::ScenarioResult result;
  result.set_scenario("capture");
  *result.add_runs() = MeasureCapture(stack, config, "capture");
  const std::vector<common::DbOptions> nodes = testing::TestClusterNodes();
  if (!nodes.empty()) {
    auto& figures = *result.mutable_figures();
    for (int replicas : {1, 2}) {
      const std::string name = replicas == 1 ? "capture-cluster" : "capture-cluster-2";
      *result.add_runs() = MeasureClusterCapture(config, nodes, replicas, name, figures);
      const double single = result.runs(0).per_second();
      figures[name + ".rate_ratio"] =
          single > 0 ? result.runs().rbegin()->per_second() / single : 0;
    }
  }
  if (config.smoke) {
    for (const v1::Run& run : result.runs()) RETURN_IF_ERROR(RequireNoErrors(run));
  }
  result.add_notes(
      absl::StrCat("CaptureLead through the gateway with a new email per call and a web "
                   "visit touchpoint, ",
                   config.concurrency,
                   " calls in flight; durable "
                   "commits (innodb_flush_log_at_trx_commit=1)"));
  if (!nodes.empty()) {
    result.add_notes(absl::StrCat(
        "capture-cluster: the same load with marketing on a ", nodes.size(),
        "-node Galera cluster on this machine (--db_hosts, every node its own mariadbd, "
        "wsrep_sync_wait=1); capture-cluster-2: two marketing replicas on two nodes, the "
        "gateway alternating between them. <run>.rate_ratio is its calls/s over capture's; the "
        "other <run>.* figures are the cluster's wsrep counters over the window "
        "(bench/galera_stats.h)"));
  }
  result.set_command(ReproduceCommand(config, nodes.empty() ? "capture" : "capture --cluster"));
  return result;
}

absl::StatusOr<v1::ScenarioResult> RunDbBaseline(const BenchConfig& config) {
  testing::TestDatabase db("bench_sysbench");
  const common::DbOptions& o = db.options();
  const std::string base = absl::StrCat(
      "sysbench oltp_insert --db-driver=mysql --mysql-host=", o.host, " --mysql-port=", o.port,
      " --mysql-user=", o.user, " --mysql-password=", o.password, " --mysql-db=", o.database,
      " --tables=1 --table-size=10000 --threads=", config.concurrency, " --percentile=99");
  auto run = [&](const std::string& args) -> absl::StatusOr<std::string> {
    testing::CommandResult r = testing::RunCommand(absl::StrCat(base, " ", args, " 2>&1"));
    if (r.exit_code != 0) {
      return absl::InternalError(absl::StrCat("sysbench ", args, " failed: ", r.output));
    }
    return r.output;
  };
  RETURN_IF_ERROR(run("prepare").status());
  const auto seconds = [](absl::Duration d) {
    return std::max<int64_t>(1, absl::ToInt64Seconds(d));
  };
  RETURN_IF_ERROR(run(absl::StrCat("--time=", seconds(config.warmup), " run")).status());

  std::map<std::string, pid_t> watch;
  if (config.db_pid > 0) watch["mariadb"] = config.db_pid;
  const auto before = CpuSnapshot(watch);
  ASSIGN_OR_RETURN(std::string out, run(absl::StrCat("--time=", seconds(config.duration), " run")));
  const auto after = CpuSnapshot(watch);

  v1::ScenarioResult result;
  result.set_scenario("db-baseline");
  v1::Run* r = result.add_runs();
  r->set_name("db-baseline");
  r->set_method("sysbench oltp_insert");
  r->set_mode("closed");
  r->set_concurrency(config.concurrency);
  r->set_seconds(static_cast<double>(seconds(config.duration)));
  r->set_ok(static_cast<int64_t>(SysbenchFigure(out, "transactions:", false)));
  r->set_per_second(SysbenchFigure(out, "transactions:", true));
  const int64_t errors = static_cast<int64_t>(SysbenchFigure(out, "ignored errors:", false));
  if (errors > 0) (*r->mutable_errors())["SYSBENCH_IGNORED"] = errors;
  v1::Latency* l = r->mutable_latency();
  l->set_min_us(SysbenchFigure(out, "min:", false) * 1e3);
  l->set_p99_us(SysbenchFigure(out, "99th percentile:", false) * 1e3);
  l->set_max_us(SysbenchFigure(out, "max:", false) * 1e3);
  l->set_count(r->ok());
  for (const auto& [name, s] : CpuSpent(before, after)) (*r->mutable_cpu_seconds())[name] = s;
  result.add_notes(
      "sysbench reports min, p99 and max latency only; one single-row INSERT per "
      "autocommit transaction into a table with a secondary index");
  result.set_command(ReproduceCommand(config, "db-baseline"));
  return result;
}

absl::StatusOr<v1::ScenarioResult> RunTouch(const BenchConfig& config) {
  testing::FunnelStack stack("bench_touch");
  const int64_t leads = config.smoke ? 200 : 50'000;
  const int64_t first =
      SeedLeads(stack.marketing_db(), leads, config.run_id, /*some_handed_off=*/false);
  LoadOptions o = GatewayLoad(stack, config, "touch", kTouch, stack.Key("MARKETING"));
  o.watch = WatchedProcesses(stack, config);
  v1::ScenarioResult result;
  result.set_scenario("touch");
  *result.add_runs() =
      ToRun("touch", o, RunLoad(o, [first, leads](uint64_t seq) {
              marketing::v1::RecordTouchpointRequest request;
              // Spread over the leads so concurrent calls rarely wait on one row's lock.
              request.set_lead_id(
                  first + static_cast<int64_t>((seq * 7919) % static_cast<uint64_t>(leads)));
              request.set_type(handoff::v1::TOUCHPOINT_TYPE_EMAIL_OPEN);
              return request.SerializeAsString();
            }));
  if (config.smoke) RETURN_IF_ERROR(RequireNoErrors(result.runs(0)));
  result.add_notes(absl::StrCat("RecordTouchpoint (email open) spread over ", leads,
                                " seeded leads; each call locks the lead, re-scores it and may "
                                "qualify it (hand it to sales)"));
  result.set_command(ReproduceCommand(config, "touch"));
  return result;
}

absl::StatusOr<v1::ScenarioResult> RunScale(const BenchConfig& config) {
  testing::FunnelStack stack("bench_scale");
  v1::ScenarioResult result;
  result.set_scenario("scale");
  *result.add_runs() = MeasureCapture(stack, config, "capture-empty");
  const double seed_seconds = TimeSeconds(
      [&] { SeedLeads(stack.marketing_db(), config.scale_leads, config.run_id, true); });
  const int64_t rows = stack.marketing_db().QueryInt("SELECT COUNT(*) FROM leads");
  *result.add_runs() = MeasureCapture(stack, config, absl::StrCat("capture-at-", rows, "-leads"));
  if (config.smoke) {
    for (const v1::Run& run : result.runs()) RETURN_IF_ERROR(RequireNoErrors(run));
  }
  auto& figures = *result.mutable_figures();
  figures["seeded_leads"] = static_cast<double>(config.scale_leads);
  figures["seed_seconds"] = seed_seconds;
  figures["leads_at_second_run"] = static_cast<double>(rows);
  const double empty = result.runs(0).per_second();
  figures["rate_ratio"] = empty > 0 ? result.runs(1).per_second() / empty : 0;
  result.add_notes(
      absl::StrCat("the same capture load on the empty table, then after bulk-seeding ",
                   config.scale_leads, " leads"));
  result.set_command(ReproduceCommand(config, "scale"));
  return result;
}

}  // namespace funnel::bench
