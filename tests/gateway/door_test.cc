// The door holds against its own callers: what one authenticated caller sends
// (oversize headers, oversize values echoed into errors, too many calls, streams it
// never finishes) answers that caller alone, and the logs name who really called.
// Real binaries on loopback; these tests specify the gateway's behaviour whatever
// its forwarding path.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/limits.h"
#include "funnel/marketing/v1/marketing_service.grpc.pb.h"
#include "funnel/sales/v1/sales_service.grpc.pb.h"
#include "gateway/auth.h"
#include "tests/testing/stack.h"

namespace funnel {
namespace {

using ::funnel::testing::CallRaw;
using ::funnel::testing::FunnelStack;
using ::testing::HasSubstr;

constexpr char kRelayStats[] = "/funnel.marketing.v1.MarketingService/GetRelayStats";

// The log lines of a process that contain every one of `parts`.
std::vector<std::string> LinesWith(const std::string& log, const std::vector<std::string>& parts) {
  std::vector<std::string> found;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    bool all = !line.empty();
    for (const std::string& p : parts) all = all && absl::StrContains(line, p);
    if (all) found.emplace_back(line);
  }
  return found;
}

// Waits until some line of `log()` has every one of `parts`.
template <typename LogFn>
std::vector<std::string> WaitForLines(LogFn log, const std::vector<std::string>& parts,
                                      absl::Duration timeout = absl::Seconds(15)) {
  const absl::Time give_up = absl::Now() + timeout;
  std::vector<std::string> lines;
  while ((lines = LinesWith(log(), parts)).empty() && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  return lines;
}

int ThreadsOf(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string text;
  while (std::getline(in, text)) {
    absl::string_view line = text;
    int n = 0;
    if (absl::ConsumePrefix(&line, "Threads:") &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &n)) {
      return n;
    }
  }
  return -1;
}

// The shipped policy with `extra` lines after it (later limit lines win).
std::string PolicyFileWith(const testing::TempDir& dir, const std::string& extra) {
  const std::string path = dir.path() + "/policy.txt";
  std::ofstream(path) << gateway::DefaultPolicyText() << "\n" << extra << "\n";
  return path;
}

TEST(DoorTest, OversizeHeadersAndEchoedValuesHurtNoOtherCaller) {
  FunnelStack stack("door_size");
  // Victims, each on a connection of its own, loop a cheap read while the attacker
  // (a valid SALES_REP key) sends what used to break the shared backend connection.
  std::atomic<bool> stop{false};
  std::atomic<int> victim_calls{0};
  std::vector<std::string> victim_failures;
  absl::Mutex failures_mu;
  std::vector<std::thread> victims;
  for (int v = 0; v < 4; ++v) {
    victims.emplace_back([&, v] {
      // Other people's reads on the service the attacker aims at.
      auto channel = stack.GatewayChannel(stack.Key(v % 2 ? "SALES_MANAGER" : "ADMIN"),
                                          /*own_connection=*/true);
      while (!stop) {
        grpc::Status s = CallRaw(channel, "/funnel.sales.v1.SalesService/GetRelayStats");
        ++victim_calls;
        if (!s.ok()) {
          absl::MutexLock lock(&failures_mu);
          victim_failures.push_back(absl::StrCat(s.error_code(), " ", s.error_message()));
        }
      }
    });
  }

  auto attacker = stack.GatewayChannel(stack.Key("SALES_REP"));
  const std::string big(8192, 'a');
  sales::v1::UpdateOpportunityRequest update;
  update.mutable_opportunity()->set_opportunity_id(1);
  update.mutable_update_mask()->add_paths(std::string(8192, 'p'));
  const std::string update_bytes = update.SerializeAsString();
  const absl::Time until = absl::Now() + absl::Seconds(4);
  int attacks = 0;
  while (absl::Now() < until) {
    // A custom header too big for the door: refused there, for this call alone.
    grpc::Status s = CallRaw(attacker, "/funnel.sales.v1.SalesService/ListReps", "", nullptr,
                             {{"x-padding", big}});
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr("metadata"));
    // One that fits the door: it stays there (services read only the allow-list).
    s = CallRaw(attacker, "/funnel.sales.v1.SalesService/ListReps", "", nullptr,
                {{"x-padding", std::string(6000, 'b')}});
    EXPECT_TRUE(s.ok()) << s.error_message();
    // An oversize value the service echoes into its error: the message is cut.
    s = CallRaw(attacker, "/funnel.sales.v1.SalesService/UpdateOpportunity", update_bytes);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << s.error_message().substr(0, 200);
    EXPECT_THAT(s.error_message(), HasSubstr("update_mask"));
    EXPECT_LE(s.error_message().size(), common::kMaxStatusMessageBytes);
    ++attacks;
  }
  stop = true;
  for (std::thread& t : victims) t.join();
  EXPECT_GT(attacks, 10);
  EXPECT_GT(victim_calls.load(), 100);
  EXPECT_THAT(victim_failures, ::testing::IsEmpty());
  // The backend stayed healthy all along.
  EXPECT_EQ(testing::HealthOf(stack.gateway_port(), "funnel.sales.v1.SalesService"),
            testing::HealthCheckResponse::SERVING);
}

TEST(DoorTest, OneCallerOverItsLimitsIsRefusedAndNobodyElse) {
  testing::TempDir dir;
  const std::string policy =
      PolicyFileWith(dir, "limit REVENUE_OPS rate=5 burst=5\nlimit MARKETING in_flight=2");
  FunnelStack stack("door_limits", testing::TestServerOptions(), 1, {"--policy_file=" + policy});
  const std::string ops_2 = stack.AddKey("REVENUE_OPS", "ops-2", 0);

  // Rate: the first principal runs dry; the second of the same role does not notice.
  auto stub =
      marketing::v1::MarketingService::NewStub(stack.GatewayChannel(stack.Key("REVENUE_OPS")));
  int refused = 0;
  std::string retry_after;
  for (int i = 0; i < 20; ++i) {
    grpc::ClientContext ctx;
    handoff::v1::RelayStats stats;
    grpc::Status s = stub->GetRelayStats(&ctx, {}, &stats);
    if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++refused;
      EXPECT_THAT(s.error_message(), HasSubstr("retry in"));
      auto hint = ctx.GetServerTrailingMetadata().find("x-funnel-retry-after-ms");
      ASSERT_NE(hint, ctx.GetServerTrailingMetadata().end());
      retry_after.assign(hint->second.data(), hint->second.size());
    } else {
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
  }
  EXPECT_GE(refused, 10);
  int64_t wait_ms = 0;
  ASSERT_TRUE(absl::SimpleAtoi(retry_after, &wait_ms)) << retry_after;
  EXPECT_GT(wait_ms, 0);
  EXPECT_LE(wait_ms, 250);
  auto other = stack.GatewayChannel(ops_2);
  auto marketer = stack.GatewayChannel(stack.Key("MARKETING"));
  // (AddKey's own check call took one of ops-2's five.)
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(CallRaw(other, kRelayStats).ok());
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(CallRaw(marketer, kRelayStats).ok());
  // After the hint's wait, the first caller is served again.
  absl::SleepFor(absl::Milliseconds(wait_ms + 50));
  EXPECT_TRUE(CallRaw(stack.GatewayChannel(stack.Key("REVENUE_OPS")), kRelayStats).ok());

  // In flight: two open import streams are the marketer's most; a third call is
  // refused, a second marketer is served, and closing a stream makes room.
  auto import_stub = marketing::v1::MarketingService::NewStub(marketer);
  struct Open {
    grpc::ClientContext ctx;
    marketing::v1::ImportLeadsResponse summary;
    std::unique_ptr<grpc::ClientWriter<marketing::v1::CaptureLeadRequest>> writer;
  };
  std::vector<std::unique_ptr<Open>> open;
  for (int i = 0; i < 2; ++i) {
    open.push_back(std::make_unique<Open>());
    open.back()->writer = import_stub->ImportLeads(&open.back()->ctx, &open.back()->summary);
    marketing::v1::CaptureLeadRequest row;
    row.mutable_contact()->set_email(absl::StrCat("held", i, "@example.com"));
    ASSERT_TRUE(open.back()->writer->Write(row));
  }
  absl::SleepFor(absl::Milliseconds(300));  // both streams admitted at the gateway
  grpc::Status third = CallRaw(marketer, kRelayStats);
  EXPECT_EQ(third.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(third.error_message(), HasSubstr("in flight"));
  const std::string marketer_2 = stack.AddKey("MARKETING", "marketer-2", 0);
  EXPECT_TRUE(CallRaw(stack.GatewayChannel(marketer_2), kRelayStats).ok());
  open[0]->writer->WritesDone();
  ASSERT_TRUE(open[0]->writer->Finish().ok());
  EXPECT_EQ(open[0]->summary.created(), 1);
  EXPECT_TRUE(CallRaw(marketer, kRelayStats).ok());
  open[1]->writer->WritesDone();
  EXPECT_TRUE(open[1]->writer->Finish().ok());
}

TEST(DoorTest, TheAuditLineNamesTheVerifiedCallerAndOneRequestIdFollowsTheCall) {
  FunnelStack stack("door_audit");
  auto marketer = stack.GatewayChannel(stack.Key("MARKETING"));
  // A forged identity header is logged as what the key says, at the gateway and at
  // the service.
  ASSERT_TRUE(CallRaw(marketer, kRelayStats, "", nullptr,
                      {{"x-funnel-principal-id", "mallory"}, {"x-request-id", "audit-req-1"}})
                  .ok());
  for (testing::ChildProcess* p : {&stack.gateway(), &stack.marketing()}) {
    std::vector<std::string> lines =
        WaitForLines([p] { return p->Log(); },
                     {"\"msg\":\"request\"", "GetRelayStats", "\"request_id\":\"audit-req-1\""});
    ASSERT_EQ(lines.size(), 1u) << p->Log();
    EXPECT_THAT(lines[0], HasSubstr("\"caller\":\"test-MARKETING\""));
    EXPECT_THAT(lines[0], ::testing::Not(HasSubstr("mallory")));
  }
  // A call without a key is logged as unauthenticated, whatever it claims.
  auto no_key = grpc::CreateChannel(absl::StrCat("127.0.0.1:", stack.gateway_port()),
                                    grpc::InsecureChannelCredentials());
  EXPECT_EQ(CallRaw(no_key, kRelayStats, "", nullptr,
                    {{"x-funnel-principal-id", "mallory"}, {"x-request-id", "audit-req-2"}})
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  std::vector<std::string> refused =
      WaitForLines([&] { return stack.gateway().Log(); }, {"\"request_id\":\"audit-req-2\""});
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_THAT(refused[0], HasSubstr("\"caller\":\"unauthenticated\""));

  // A call without a (well-formed) request id gets one at the gateway, and the
  // service logs the same one.
  ASSERT_TRUE(CallRaw(marketer, "/funnel.marketing.v1.MarketingService/GetScoringPolicy", "",
                      nullptr, {{"x-request-id", "not well formed!"}})
                  .ok());
  std::vector<std::string> gateway_line = WaitForLines([&] { return stack.gateway().Log(); },
                                                       {"\"msg\":\"request\"", "GetScoringPolicy"});
  ASSERT_EQ(gateway_line.size(), 1u);
  const size_t at = gateway_line[0].find("\"request_id\":\"");
  ASSERT_NE(at, std::string::npos) << gateway_line[0];
  const std::string assigned =
      gateway_line[0].substr(at + 14, gateway_line[0].find('"', at + 14) - (at + 14));
  EXPECT_EQ(assigned.size(), 36u) << assigned;  // a UUID
  EXPECT_EQ(WaitForLines([&] { return stack.marketing().Log(); },
                         {"GetScoringPolicy", absl::StrCat("\"request_id\":\"", assigned, "\"")})
                .size(),
            1u);

  // A handoff: the qualifying call's id is on the relay's delivery line and on the
  // sales service's line for the delivered call.
  marketing::v1::CaptureLeadRequest capture;
  capture.mutable_contact()->set_email("audit@example.com");
  std::string reply;
  ASSERT_TRUE(CallRaw(marketer, "/funnel.marketing.v1.MarketingService/CaptureLead",
                      capture.SerializeAsString(), &reply)
                  .ok());
  marketing::v1::CaptureLeadResponse captured;
  ASSERT_TRUE(captured.ParseFromString(reply));
  marketing::v1::QualifyLeadRequest qualify;
  qualify.set_lead_id(captured.lead().lead_id());
  qualify.set_note("audit");
  ASSERT_TRUE(CallRaw(marketer, "/funnel.marketing.v1.MarketingService/QualifyLead",
                      qualify.SerializeAsString(), nullptr, {{"x-request-id", "audit-handoff-1"}})
                  .ok());
  EXPECT_EQ(WaitForLines([&] { return stack.marketing().Log(); },
                         {"\"msg\":\"relay delivered\"", "\"kind\":\"LeadHandoff\"",
                          "\"request_id\":\"audit-handoff-1\""})
                .size(),
            1u)
      << stack.marketing().Log();
  EXPECT_EQ(WaitForLines([&] { return stack.sales().Log(); },
                         {"\"msg\":\"request\"", "SubmitLead", "\"request_id\":\"audit-handoff-1\"",
                          "\"caller\":\"test-SERVICE_MARKETING\""})
                .size(),
            1u)
      << stack.sales().Log();

  // Health probes (the gateway's, twice a second per backend) stay out of the
  // info-level log.
  EXPECT_THAT(LinesWith(stack.marketing().Log(), {"grpc.health.v1.Health"}), ::testing::IsEmpty());
}

// Bad bytes through the door: the gateway's own views and the forwarded services
// answer INVALID_ARGUMENT "request: malformed" (the views said UNIMPLEMENTED).
TEST(DoorTest, MalformedRequestBytesAreInvalidArgumentEverywhere) {
  FunnelStack stack("door_malformed");
  const std::string truncated("\x08\xff", 2);
  for (const auto& [key, method] : std::vector<std::pair<std::string, std::string>>{
           {"REVENUE_OPS", "/funnel.gateway.v1.FunnelService/GetFunnelReport"},
           {"REVENUE_OPS", "/funnel.gateway.v1.FunnelService/GetLeadJourney"},
           {"MARKETING", "/funnel.marketing.v1.MarketingService/GetLead"},
           {"ADMIN", "/funnel.sales.v1.SalesService/GetRep"}}) {
    const grpc::Status s = CallRaw(stack.GatewayChannel(stack.Key(key)), method, truncated);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << method;
    EXPECT_THAT(s.error_message(), HasSubstr("request: malformed")) << method;
  }
}

TEST(DoorTest, StalledImportStreamsHoldNoThreads) {
  FunnelStack stack("door_stall");
  auto stub =
      marketing::v1::MarketingService::NewStub(stack.GatewayChannel(stack.Key("MARKETING")));
  ASSERT_TRUE(CallRaw(stack.GatewayChannel(stack.Key("MARKETING")), kRelayStats).ok());
  absl::SleepFor(absl::Milliseconds(500));
  const int before = ThreadsOf(stack.marketing().pid());
  ASSERT_GT(before, 0);
  // Streams that send a row and then nothing, never finishing.
  constexpr int kStalled = 60;
  struct Open {
    grpc::ClientContext ctx;
    marketing::v1::ImportLeadsResponse summary;
    std::unique_ptr<grpc::ClientWriter<marketing::v1::CaptureLeadRequest>> writer;
  };
  std::vector<std::unique_ptr<Open>> open;
  for (int i = 0; i < kStalled; ++i) {
    open.push_back(std::make_unique<Open>());
    open.back()->writer = stub->ImportLeads(&open.back()->ctx, &open.back()->summary);
    marketing::v1::CaptureLeadRequest row;
    row.mutable_contact()->set_email(absl::StrCat("stalled", i, "@example.com"));
    ASSERT_TRUE(open.back()->writer->Write(row));
  }
  absl::SleepFor(absl::Seconds(2));
  const int during = ThreadsOf(stack.marketing().pid());
  EXPECT_LE(during, before + 8) << "before " << before << ", with " << kStalled
                                << " stalled streams";
  // Everyone else is served meanwhile.
  EXPECT_TRUE(CallRaw(stack.GatewayChannel(stack.Key("ADMIN")), kRelayStats).ok());
  for (auto& o : open) o->ctx.TryCancel();
  for (auto& o : open) o->writer->Finish();
}

TEST(DoorTest, AServerThatCannotListenSaysWhyOnOneLine) {
  FunnelStack stack("door_port");
  testing::ChildProcess second(
      "gateway", {testing::BinaryPath("gateway"), absl::StrCat("--port=", stack.gateway_port())});
  EXPECT_EQ(second.Wait(absl::Seconds(10)), 1);
  std::vector<std::string> lines = LinesWith(second.Log(), {"\"level\":\"error\"", "cannot start"});
  ASSERT_EQ(lines.size(), 1u) << second.Log();
  EXPECT_THAT(lines[0], HasSubstr(absl::StrCat("127.0.0.1:", stack.gateway_port())));
  EXPECT_THAT(lines[0], HasSubstr("Address already in use"));
}

}  // namespace
}  // namespace funnel
