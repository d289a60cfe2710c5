// handoff-lag: leads qualified at a fixed rate; for each, the time from the
// qualifying transaction (marketing's handoff row) to the row committed in sales'
// inbox, both stamped on this one machine's clock. Delivery goes the production
// way: outbox -> relay -> gateway -> HandoffInboxService.
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/substitute.h"
#include "bench/scenario.h"
#include "bench/seed.h"
#include "funnel/marketing/v1/marketing_service.pb.h"

namespace funnel::bench {

absl::StatusOr<v1::ScenarioResult> RunHandoffLag(const BenchConfig& config) {
  testing::FunnelStack stack("bench_lag");
  const double total_seconds = absl::ToDoubleSeconds(config.warmup + config.duration);
  const int64_t leads = static_cast<int64_t>(config.handoff_rate * total_seconds * 1.1) + 100;
  const int64_t first =
      SeedLeads(stack.marketing_db(), leads, config.run_id, /*some_handed_off=*/false);

  LoadOptions o =
      GatewayLoad(stack, config, "handoff-lag", "/funnel.marketing.v1.MarketingService/QualifyLead",
                  stack.Key("MARKETING"));
  o.rate = config.handoff_rate;
  o.watch = WatchedProcesses(stack, config);
  v1::ScenarioResult result;
  result.set_scenario("handoff-lag");
  *result.add_runs() = ToRun("qualify", o, RunLoad(o, [first](uint64_t seq) {
                               marketing::v1::QualifyLeadRequest request;
                               request.set_lead_id(first + static_cast<int64_t>(seq));
                               request.set_note("bench");
                               return request.SerializeAsString();
                             }));
  if (config.smoke) RETURN_IF_ERROR(RequireNoErrors(result.runs(0)));

  // Every handoff must reach sales; wait for the relay to drain.
  testing::TestDatabase& mk = stack.marketing_db();
  const int64_t made = mk.QueryInt("SELECT COUNT(*) FROM handoffs");
  const absl::Time give_up = absl::Now() + absl::Seconds(120);
  int64_t arrived = 0;
  while ((arrived = stack.sales_db().QueryInt("SELECT COUNT(*) FROM handoffs")) < made &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  if (arrived < made) {
    return absl::DeadlineExceededError(absl::StrCat("handoff-lag: only ", arrived, " of ", made,
                                                    " handoffs reached sales in 120 s"));
  }

  // Lags of the handoffs made after the warm-up.
  const int64_t warm =
      static_cast<int64_t>(config.handoff_rate * absl::ToDoubleSeconds(config.warmup));
  const std::vector<std::string> lags =
      mk.QueryStrings(absl::Substitute(R"sql(
      SELECT TIMESTAMPDIFF(MICROSECOND, m.created_at, s.received_at)
      FROM handoffs m JOIN $0.handoffs s ON s.handoff_id = m.handoff_id
      WHERE m.lead_id >= $1)sql",
                                       stack.sales_db().name(), first + warm));
  LatencyHistogram lag;
  for (const std::string& text : lags) {
    int64_t micros = 0;
    if (absl::SimpleAtoi(text, &micros)) lag.Record(micros * 1000);
  }
  v1::Run* run = result.add_runs();
  run->set_name("handoff-lag");
  run->set_method("qualifying commit -> sales inbox row");
  run->set_mode("open");
  run->set_target_rate(config.handoff_rate);
  run->set_seconds(absl::ToDoubleSeconds(config.duration));
  run->set_ok(lag.count());
  run->set_per_second(static_cast<double>(lag.count()) / absl::ToDoubleSeconds(config.duration));
  *run->mutable_latency() = ToLatency(lag);
  (*result.mutable_figures())["handoffs"] = static_cast<double>(made);
  result.add_notes(absl::StrCat("QualifyLead open loop at ", config.handoff_rate,
                                " leads/s through the gateway; lag = sales handoffs.received_at - "
                                "marketing handoffs.created_at (statement time of the qualifying "
                                "transaction), one sales_service replica"));
  result.set_command(ReproduceCommand(config, "handoff-lag"));
  return result;
}

}  // namespace funnel::bench
