// What an on-call engineer reads: each real binary serves Prometheus metrics on
// --metrics_port, and the figures move as the system does.

#include <gmock/gmock.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/generic_call.h"
#include "funnel/gateway/v1/funnel_service.grpc.pb.h"
#include "funnel/handoff/v1/handoff.grpc.pb.h"
#include "funnel/marketing/v1/marketing_service.grpc.pb.h"
#include "tests/testing/stack.h"

namespace funnel {
namespace {

using ::funnel::testing::FunnelStack;
using ::funnel::testing::SampleSum;
using ::testing::HasSubstr;

class MetricsTest : public ::testing::Test {
 protected:
  MetricsTest() : stack_("metrics") {
    marketing_ =
        marketing::v1::MarketingService::NewStub(stack_.GatewayChannel(stack_.Key("MARKETING")));
  }

  std::string Scrape(FunnelStack::Process p) {
    absl::StatusOr<std::string> text = testing::HttpGet(stack_.metrics_port(p), "/metrics");
    EXPECT_TRUE(text.ok()) << text.status();
    return text.ok() ? *text : "";
  }

  // Polls the sum of `name`{labels} on `p` until `want` holds (metrics that a
  // background loop sets, such as the outbox backlog).
  bool WaitForSample(FunnelStack::Process p, const std::string& name,
                     const std::map<std::string, std::string>& labels,
                     const std::function<bool(double)>& want) {
    const absl::Time give_up = absl::Now() + absl::Seconds(20);
    while (absl::Now() < give_up) {
      if (want(SampleSum(Scrape(p), name, labels))) return true;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return false;
  }

  int64_t CaptureAndQualify(const std::string& email) {
    grpc::ClientContext ctx;
    marketing::v1::CaptureLeadRequest r;
    r.mutable_contact()->set_email(email);
    marketing::v1::CaptureLeadResponse captured;
    grpc::Status s = marketing_->CaptureLead(&ctx, r, &captured);
    EXPECT_TRUE(s.ok()) << s.error_message();
    grpc::ClientContext ctx2;
    marketing::v1::QualifyLeadRequest q;
    q.set_lead_id(captured.lead().lead_id());
    q.set_note("asked for a demo");
    marketing::v1::Lead lead;
    s = marketing_->QualifyLead(&ctx2, q, &lead);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return captured.lead().lead_id();
  }

  // Delivers a handoff to sales as marketing's relay would; returns the receipt.
  handoff::v1::SubmitLeadResponse SubmitHandoff(const std::string& handoff_id, int64_t lead_id) {
    auto inbox = handoff::v1::HandoffInboxService::NewStub(
        stack_.GatewayChannel(stack_.Key("SERVICE_MARKETING")));
    handoff::v1::LeadHandoff lead;
    lead.set_handoff_id(handoff_id);
    lead.set_lead_id(lead_id);
    lead.mutable_contact()->set_email(absl::StrCat("lead-", lead_id, "@example.com"));
    lead.set_contract_version("1.1");
    grpc::ClientContext ctx;
    handoff::v1::SubmitLeadResponse receipt;
    const grpc::Status s = inbox->SubmitLead(&ctx, lead, &receipt);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return receipt;
  }

  FunnelStack stack_;
  std::unique_ptr<marketing::v1::MarketingService::Stub> marketing_;
};

TEST_F(MetricsTest, EveryBinaryServesMetricsInPrometheusText) {
  for (FunnelStack::Process p :
       {FunnelStack::kMarketing, FunnelStack::kSales, FunnelStack::kGateway}) {
    const std::string text = Scrape(p);
    EXPECT_THAT(text, HasSubstr("# TYPE funnel_grpc_server_handled_total counter"));
    EXPECT_EQ(SampleSum(text, "funnel_health_serving", {{"service", ""}}), 1) << p;
  }
  const std::string marketing = Scrape(FunnelStack::kMarketing);
  EXPECT_GT(SampleSum(marketing, "funnel_db_pool_size_connections"), 0);
  EXPECT_GT(SampleSum(marketing, "funnel_db_pool_open_connections"), 0);
  EXPECT_THAT(marketing, HasSubstr("funnel_db_pool_wait_seconds_bucket"));
}

TEST_F(MetricsTest, ACaptureCountsOnTheServiceAndTheGatewaysBackendLeg) {
  const std::map<std::string, std::string> capture_ok = {{"grpc_method", "CaptureLead"},
                                                         {"grpc_code", "OK"}};
  const double before =
      SampleSum(Scrape(FunnelStack::kMarketing), "funnel_grpc_server_handled_total", capture_ok);
  const double legs_before =
      SampleSum(Scrape(FunnelStack::kGateway), "funnel_gateway_backend_calls_total",
                {{"backend", "marketing_service"}, {"grpc_code", "OK"}});
  grpc::ClientContext ctx;
  marketing::v1::CaptureLeadRequest r;
  r.mutable_contact()->set_email("counted@example.com");
  marketing::v1::CaptureLeadResponse captured;
  ASSERT_TRUE(marketing_->CaptureLead(&ctx, r, &captured).ok());

  const std::string marketing = Scrape(FunnelStack::kMarketing);
  EXPECT_EQ(SampleSum(marketing, "funnel_grpc_server_handled_total", capture_ok), before + 1);
  EXPECT_EQ(SampleSum(marketing, "funnel_grpc_server_handling_seconds_count",
                      {{"grpc_method", "CaptureLead"}}),
            before + 1);
  EXPECT_EQ(SampleSum(Scrape(FunnelStack::kGateway), "funnel_gateway_backend_calls_total",
                      {{"backend", "marketing_service"}, {"grpc_code", "OK"}}),
            legs_before + 1);
}

// A composite view's calls to both backends are backend calls too.
TEST_F(MetricsTest, TheFunnelReportsBackendCallsAreCounted) {
  auto legs = [&](const char* backend) {
    return SampleSum(Scrape(FunnelStack::kGateway), "funnel_gateway_backend_calls_total",
                     {{"backend", backend}, {"grpc_code", "OK"}});
  };
  const double marketing_before = legs("marketing_service");
  const double sales_before = legs("sales_service");
  auto views = gateway::v1::FunnelService::NewStub(stack_.GatewayChannel(stack_.Key("ADMIN")));
  grpc::ClientContext ctx;
  gateway::v1::FunnelReport report;
  const grpc::Status s =
      views->GetFunnelReport(&ctx, gateway::v1::GetFunnelReportRequest(), &report);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(legs("marketing_service"), marketing_before + 1);
  EXPECT_EQ(legs("sales_service"), sales_before + 1);
  EXPECT_GE(SampleSum(Scrape(FunnelStack::kGateway), "funnel_gateway_backend_call_seconds_count",
                      {{"backend", "sales_service"}}),
            sales_before + 1);
}

TEST_F(MetricsTest, RefusalsAtTheDoorAreCountedByReason) {
  auto no_key = marketing::v1::MarketingService::NewStub(stack_.GatewayChannel("fk_not_a_key"));
  auto sales_rep =
      marketing::v1::MarketingService::NewStub(stack_.GatewayChannel(stack_.Key("SALES_REP")));
  for (auto* stub : {no_key.get(), sales_rep.get()}) {
    grpc::ClientContext ctx;
    marketing::v1::CaptureLeadRequest r;
    r.mutable_contact()->set_email("refused@example.com");
    marketing::v1::CaptureLeadResponse out;
    EXPECT_FALSE(stub->CaptureLead(&ctx, r, &out).ok());
  }
  const std::string gateway = Scrape(FunnelStack::kGateway);
  EXPECT_EQ(SampleSum(gateway, "funnel_gateway_refusals_total", {{"reason", "unauthenticated"}}),
            1);
  EXPECT_EQ(SampleSum(gateway, "funnel_gateway_refusals_total", {{"reason", "permission_denied"}}),
            1);
}

// While sales is down the outbox backlog grows and deliveries fail; once it is
// back the backlog drains, the deliveries count, and sales counts what it received.
TEST_F(MetricsTest, TheOutboxBacklogGrowsWhileSalesIsDownAndDrainsAfter) {
  stack_.Kill(FunnelStack::kSales);
  CaptureAndQualify("backlog-1@example.com");
  CaptureAndQualify("backlog-2@example.com");
  EXPECT_TRUE(WaitForSample(FunnelStack::kMarketing, "funnel_outbox_backlog_events",
                            {{"server", "marketing"}}, [](double v) { return v == 2; }));
  EXPECT_TRUE(WaitForSample(FunnelStack::kMarketing, "funnel_outbox_oldest_undelivered_age_seconds",
                            {{"server", "marketing"}}, [](double v) { return v > 0; }));
  EXPECT_TRUE(WaitForSample(FunnelStack::kMarketing, "funnel_relay_delivery_failures_total",
                            {{"kind", "LeadHandoff"}}, [](double v) { return v >= 1; }));

  stack_.Start(FunnelStack::kSales);
  EXPECT_TRUE(WaitForSample(FunnelStack::kMarketing, "funnel_outbox_backlog_events",
                            {{"server", "marketing"}}, [](double v) { return v == 0; }));
  const std::string marketing = Scrape(FunnelStack::kMarketing);
  EXPECT_EQ(SampleSum(marketing, "funnel_relay_deliveries_total", {{"kind", "LeadHandoff"}}), 2);
  EXPECT_EQ(SampleSum(marketing, "funnel_relay_delivery_latency_seconds_count",
                      {{"kind", "LeadHandoff"}}),
            2);
  EXPECT_EQ(SampleSum(Scrape(FunnelStack::kSales), "funnel_inbox_events_total",
                      {{"kind", "LeadHandoff"}, {"result", "new"}}),
            2);
}

// A delivery the receiver has seen before is answered as a duplicate and counted.
TEST_F(MetricsTest, ADuplicateDeliveryIsCountedAsOne) {
  for (bool duplicate : {false, true}) {
    EXPECT_EQ(SubmitHandoff("6f1c2a3b-0000-4000-8000-00000000abcd", 4242).duplicate(), duplicate);
  }
  const std::string sales = Scrape(FunnelStack::kSales);
  EXPECT_EQ(SampleSum(sales, "funnel_inbox_events_total",
                      {{"kind", "LeadHandoff"}, {"result", "duplicate"}}),
            1);
  EXPECT_EQ(
      SampleSum(sales, "funnel_inbox_events_total", {{"kind", "LeadHandoff"}, {"result", "new"}}),
      1);
}

// Read when scraped: a handoff whose SLA deadline has passed unanswered is overdue.
TEST_F(MetricsTest, HandoffsOverdueNowAreCountedWhenScraped) {
  SubmitHandoff("6f1c2a3b-0000-4000-8000-00000000beef", 4343);
  EXPECT_EQ(SampleSum(Scrape(FunnelStack::kSales), "funnel_handoffs_overdue"), 0);
  // A day later, still unanswered.
  stack_.sales_db().Execute("UPDATE handoffs SET sla_deadline = NOW(6) - INTERVAL 1 HOUR");
  EXPECT_EQ(SampleSum(Scrape(FunnelStack::kSales), "funnel_handoffs_overdue"), 1);
}

// --channelz serves gRPC's channelz service (what grpcdebug reads): the gateway's
// server and its channels to both backends, with the calls made on them.
TEST(ChannelzTest, TheGatewayServesChannelzBehindItsFlag) {
  FunnelStack stack("channelz", testing::TestServerOptions(), 1, {"--channelz"});
  auto marketing =
      marketing::v1::MarketingService::NewStub(stack.GatewayChannel(stack.Key("MARKETING")));
  grpc::ClientContext capture_ctx;
  marketing::v1::CaptureLeadRequest r;
  r.mutable_contact()->set_email("channelz@example.com");
  marketing::v1::CaptureLeadResponse captured;
  ASSERT_TRUE(marketing->CaptureLead(&capture_ctx, r, &captured).ok());

  // The channelz messages as JSON, decoded with the descriptors the channelz plugin
  // linked into this binary (Debian ships no channelz headers).
  grpc::GenericStub stub(stack.GatewayChannel());
  auto ask = [&](const std::string& method, const std::string& response_type) {
    grpc::ClientContext ctx;
    std::string reply;
    const grpc::Status s = common::BlockingRawCall(
        stub, &ctx, absl::StrCat("/grpc.channelz.v1.Channelz/", method), "", &reply);
    EXPECT_TRUE(s.ok()) << method << ": " << s.error_message();
    const google::protobuf::Descriptor* type =
        google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
            absl::StrCat("grpc.channelz.v1.", response_type));
    EXPECT_NE(type, nullptr) << response_type;
    if (type == nullptr) return std::string();
    google::protobuf::DynamicMessageFactory factory;
    std::unique_ptr<google::protobuf::Message> message(factory.GetPrototype(type)->New());
    EXPECT_TRUE(message->ParseFromString(reply));
    std::string json;
    EXPECT_TRUE(google::protobuf::util::MessageToJsonString(*message, &json).ok());
    return json;
  };
  // The gateway's server, which has served calls (the capture).
  EXPECT_THAT(ask("GetServers", "GetServersResponse"), HasSubstr("\"callsStarted\""));
  // Its channels to the backends, on which the forwarded capture succeeded.
  const std::string channels = ask("GetTopChannels", "GetTopChannelsResponse");
  EXPECT_THAT(channels, HasSubstr("\"callsSucceeded\""));
  EXPECT_THAT(channels, HasSubstr(absl::StrCat("127.0.0.1:", stack.marketing_port())));
  EXPECT_THAT(channels, HasSubstr(absl::StrCat("127.0.0.1:", stack.sales_port())));
}

}  // namespace
}  // namespace funnel
