// import: ImportLeads streaming throughput through the gateway, one stream and
// several at once, each row a new lead.
#include <grpcpp/grpcpp.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "bench/proc_stats.h"
#include "bench/scenario.h"
#include "funnel/marketing/v1/marketing_service.grpc.pb.h"

namespace funnel::bench {
namespace {

constexpr int64_t kWarmupRows = 10'000;

struct StreamOutcome {
  grpc::Status status;
  marketing::v1::ImportLeadsResponse response;
};

StreamOutcome ImportStream(const std::shared_ptr<grpc::Channel>& channel, const std::string& tag,
                           int64_t rows) {
  auto stub = marketing::v1::MarketingService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(30));
  StreamOutcome out;
  auto writer = stub->ImportLeads(&context, &out.response);
  marketing::v1::CaptureLeadRequest row;
  for (int64_t i = 0; i < rows; ++i) {
    row.mutable_contact()->set_email(absl::StrCat("imp-", tag, "-", i, "@bench.example"));
    row.mutable_contact()->set_first_name("Imported");
    row.mutable_contact()->set_company(absl::StrCat("Company ", i % 5000));
    row.set_touchpoint_type(handoff::v1::TOUCHPOINT_TYPE_CONTENT_DOWNLOAD);
    if (!writer->Write(row)) break;
  }
  writer->WritesDone();
  out.status = writer->Finish();
  return out;
}

v1::Run MeasureImport(testing::FunnelStack& stack, const BenchConfig& config, int streams) {
  const std::string name = absl::StrCat("import-", streams, streams == 1 ? "-stream" : "-streams");
  const int64_t per_stream = std::max<int64_t>(1, config.import_rows / streams);
  auto channel = stack.GatewayChannel(stack.Key("MARKETING"));
  const auto watch = WatchedProcesses(stack, config);
  std::vector<StreamOutcome> outcomes(streams);
  const auto before = CpuSnapshot(watch);
  const double seconds = TimeSeconds([&] {
    std::vector<std::thread> threads;
    for (int s = 0; s < streams; ++s) {
      threads.emplace_back([&, s] {
        outcomes[s] =
            ImportStream(channel, absl::StrCat(config.run_id, "-", name, "-", s), per_stream);
      });
    }
    for (auto& t : threads) t.join();
  });
  const auto after = CpuSnapshot(watch);

  v1::Run run;
  run.set_name(name);
  run.set_method("/funnel.marketing.v1.MarketingService/ImportLeads");
  run.set_mode("stream");
  run.set_concurrency(streams);
  run.set_seconds(seconds);
  int64_t created = 0;
  for (const StreamOutcome& o : outcomes) {
    created += o.response.created();
    if (!o.status.ok())
      ++(*run.mutable_errors())[absl::StrCat("STREAM_CODE_", o.status.error_code())];
    if (o.response.rejected() > 0) (*run.mutable_errors())["ROW_REJECTED"] += o.response.rejected();
  }
  run.set_ok(created);
  run.set_per_second(seconds > 0 ? static_cast<double>(created) / seconds : 0);
  for (const auto& [process, s] : CpuSpent(before, after))
    (*run.mutable_cpu_seconds())[process] = s;
  return run;
}

}  // namespace

absl::StatusOr<v1::ScenarioResult> RunImport(const BenchConfig& config) {
  testing::FunnelStack stack("bench_import");
  // Warm-up, as before every measurement: a stream of its own, so the measured
  // streams do not pay for cold connections, statements and pages. Sized in rows,
  // not time: a client stream's writes run ahead of the server by what flow control
  // lets through, so the time a writer spends says little about the work done.
  const StreamOutcome warmup = ImportStream(stack.GatewayChannel(stack.Key("MARKETING")),
                                            absl::StrCat(config.run_id, "-warmup"),
                                            std::min<int64_t>(config.import_rows, kWarmupRows));
  if (!warmup.status.ok()) {
    return absl::InternalError(
        absl::StrCat("import warm-up stream failed: ", warmup.status.error_message()));
  }
  v1::ScenarioResult result;
  result.set_scenario("import");
  *result.add_runs() = MeasureImport(stack, config, 1);
  *result.add_runs() = MeasureImport(stack, config, 4);
  if (config.smoke) {
    for (const v1::Run& run : result.runs()) RETURN_IF_ERROR(RequireNoErrors(run));
  }
  result.add_notes(
      absl::StrCat(config.import_rows,
                   " new leads per run (a content download "
                   "touchpoint each), split over the streams; rows/s counts created leads "
                   "from the first row sent to the summary received; measured after a "
                   "warm-up stream of ",
                   warmup.response.created(), " leads"));
  result.set_command(ReproduceCommand(config, "import"));
  return result;
}

}  // namespace funnel::bench
