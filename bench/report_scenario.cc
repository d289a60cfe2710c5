// report: the cross-department views over a seeded volume. Seeding is timed too;
// it uses the database's bulk path (see seed.h), not the API.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>

#include "absl/strings/str_cat.h"
#include "bench/proc_stats.h"
#include "bench/scenario.h"
#include "bench/seed.h"
#include "common/generic_call.h"
#include "funnel/gateway/v1/funnel_service.pb.h"
#include "funnel/marketing/v1/marketing_service.pb.h"

namespace funnel::bench {

absl::StatusOr<v1::ScenarioResult> RunReport(const BenchConfig& config) {
  testing::FunnelStack stack("bench_report");
  testing::TestDatabase& mk = stack.marketing_db();
  v1::ScenarioResult result;
  result.set_scenario("report");
  auto& figures = *result.mutable_figures();
  int64_t first = 0;
  SeedCampaigns(mk);
  figures["seed_leads_seconds"] =
      TimeSeconds([&] { first = SeedLeads(mk, config.report_leads, config.run_id, true); });
  figures["seed_touchpoints_seconds"] = TimeSeconds(
      [&] { SeedTouchpoints(mk, config.report_touchpoints, first, config.report_leads); });
  int64_t handoffs = 0;
  figures["seed_handoffs_seconds"] =
      TimeSeconds([&] { handoffs = SeedHandoffs(mk, stack.sales_db()); });
  int64_t opportunities = 0;
  figures["seed_opportunities_seconds"] = TimeSeconds(
      [&] { opportunities = SeedOpportunities(stack.sales_db(), config.report_opportunities); });
  figures["leads"] = static_cast<double>(mk.QueryInt("SELECT COUNT(*) FROM leads"));
  figures["touchpoints"] = static_cast<double>(mk.QueryInt("SELECT COUNT(*) FROM touchpoints"));
  figures["handoffs"] = static_cast<double>(handoffs);
  figures["opportunities"] = static_cast<double>(opportunities);

  // One reader at a time, a fixed number of calls (these views may take seconds,
  // so a time window could end before a call does): the latency a user sees
  // opening the view.
  const int calls = config.smoke ? 2 : 10;
  auto measure = [&](const std::string& name, const std::string& method, const std::string& key,
                     const std::string& request, int times, std::string* last_reply = nullptr) {
    grpc::GenericStub stub(stack.GatewayChannel(key));
    LatencyHistogram latency;
    std::map<std::string, int64_t> errors;
    const auto watch = WatchedProcesses(stack, config);
    std::map<std::string, double> before;
    double seconds = 0;
    for (int i = -1; i < times; ++i) {  // call -1 warms up
      if (i == 0) before = CpuSnapshot(watch);
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
      std::string reply;
      grpc::Status status;
      const double took = TimeSeconds(
          [&] { status = common::BlockingRawCall(stub, &ctx, method, request, &reply); });
      if (i < 0) continue;
      seconds += took;
      if (status.ok()) {
        latency.Record(static_cast<int64_t>(took * 1e9));
        if (last_reply != nullptr) *last_reply = reply;
      } else {
        ++errors[absl::StrCat("CODE_", status.error_code())];
      }
    }
    v1::Run run;
    run.set_name(name);
    run.set_method(method);
    run.set_mode("closed");
    run.set_concurrency(1);
    run.set_seconds(seconds);
    run.set_ok(latency.count());
    run.set_per_second(seconds > 0 ? static_cast<double>(latency.count()) / seconds : 0);
    for (const auto& [code, n] : errors) (*run.mutable_errors())[code] = n;
    *run.mutable_latency() = ToLatency(latency);
    for (const auto& [process, s] : CpuSpent(before, CpuSnapshot(watch)))
      (*run.mutable_cpu_seconds())[process] = s;
    return run;
  };
  *result.add_runs() = measure(
      "GetFunnelReport", "/funnel.gateway.v1.FunnelService/GetFunnelReport",
      stack.Key("REVENUE_OPS"), gateway::v1::GetFunnelReportRequest().SerializeAsString(), calls);
  marketing::v1::GetCampaignMetricsRequest metrics;
  metrics.set_campaign_id(1);
  *result.add_runs() =
      measure("GetCampaignMetrics", "/funnel.marketing.v1.MarketingService/GetCampaignMetrics",
              stack.Key("MARKETING"), metrics.SerializeAsString(), calls);
  // Calibration reads every outcome and its touches: seconds, so fewer calls.
  const int calibrations = config.smoke ? 1 : 3;
  std::string calibration;
  *result.add_runs() = measure(
      "CalibrateScoringPolicy", "/funnel.marketing.v1.MarketingService/CalibrateScoringPolicy",
      stack.Key("MARKETING"), marketing::v1::CalibrateScoringPolicyRequest().SerializeAsString(),
      calibrations, &calibration);
  if (marketing::v1::CalibrateScoringPolicyResponse answer;
      !calibration.empty() && answer.ParseFromString(calibration)) {
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    (void)google::protobuf::util::MessageToJsonString(answer, result.mutable_calibration_json(),
                                                      options);
  }
  if (config.smoke) {
    for (const v1::Run& run : result.runs()) RETURN_IF_ERROR(RequireNoErrors(run));
  }
  result.add_notes(absl::StrCat(
      "GetFunnelReport over all time and GetCampaignMetrics for campaign 1 (of ", kSeedCampaigns,
      "), one call at a time through the gateway, ", calls, " calls each after one warm-up call; ",
      "CalibrateScoringPolicy over every seeded outcome (accepted handoffs won or lost, rejected "
      "ones), ",
      calibrations, " calls after one warm-up call"));
  result.set_command(ReproduceCommand(config, "report"));
  return result;
}

}  // namespace funnel::bench
