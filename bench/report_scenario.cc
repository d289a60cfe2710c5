// report: the cross-department views over a seeded volume. Seeding is timed too;
// it uses the database's bulk path (see seed.h), not the API.
#include "absl/strings/str_cat.h"
#include "bench/scenario.h"
#include "bench/seed.h"
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
  figures["seed_handoffs_seconds"] = TimeSeconds([&] { handoffs = SeedHandoffs(mk, stack.sales_db()); });
  int64_t opportunities = 0;
  figures["seed_opportunities_seconds"] = TimeSeconds(
      [&] { opportunities = SeedOpportunities(stack.sales_db(), config.report_opportunities); });
  figures["leads"] = static_cast<double>(mk.QueryInt("SELECT COUNT(*) FROM leads"));
  figures["touchpoints"] = static_cast<double>(mk.QueryInt("SELECT COUNT(*) FROM touchpoints"));
  figures["handoffs"] = static_cast<double>(handoffs);
  figures["opportunities"] = static_cast<double>(opportunities);

  // One reader at a time: the latency a revenue-ops user sees opening the view.
  auto measure = [&](const std::string& name, const std::string& method, const std::string& key,
                     const std::string& request) {
    LoadOptions o = GatewayLoad(stack, config, name, method, key);
    o.concurrency = 1;
    o.channels = 1;
    o.deadline = absl::Minutes(5);
    o.watch = WatchedProcesses(stack, config);
    return ToRun(name, o, RunLoad(o, [request](uint64_t) { return request; }));
  };
  *result.add_runs() = measure("GetFunnelReport", "/funnel.gateway.v1.FunnelService/GetFunnelReport",
                               stack.Key("REVENUE_OPS"), gateway::v1::GetFunnelReportRequest().SerializeAsString());
  marketing::v1::GetCampaignMetricsRequest metrics;
  metrics.set_campaign_id(1);
  *result.add_runs() = measure("GetCampaignMetrics", "/funnel.marketing.v1.MarketingService/GetCampaignMetrics",
                               stack.Key("MARKETING"), metrics.SerializeAsString());
  if (config.smoke) {
    for (const v1::Run& run : result.runs()) RETURN_IF_ERROR(RequireNoErrors(run));
  }
  result.add_notes(absl::StrCat("GetFunnelReport over all time and GetCampaignMetrics for campaign 1 (of ",
                                kSeedCampaigns, "), one call at a time through the gateway"));
  result.set_command(ReproduceCommand(config, "report"));
  return result;
}

}  // namespace funnel::bench
