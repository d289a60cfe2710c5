// The three real binaries on free ports against the test MariaDB, checked through
// the gateway the way grpcurl users see it (reflection-based `buf curl`), plus a
// few checks with a generated client.

#include <cppconn/exception.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/testing/status_matchers.h"
#include "funnel/marketing/v1/marketing_service.grpc.pb.h"
#include "funnel/sales/v1/sales_service.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tests/testing/stack.h"

namespace funnel {
namespace {

using ::funnel::testing::BufCurl;
using ::funnel::testing::FunnelStack;
using ::funnel::testing::HealthCheckResponse;
using ::funnel::testing::HealthOf;
using ::funnel::testing::WaitForHealth;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class FoundationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { stack_ = new FunnelStack("e2e"); }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }
  static std::string GatewayUrl() {
    return absl::StrCat("http://127.0.0.1:", stack_->gateway_port());
  }

  static FunnelStack* stack_;
};
FunnelStack* FoundationTest::stack_ = nullptr;

TEST_F(FoundationTest, EveryServerReportsServing) {
  for (int port : {stack_->gateway_port(), stack_->marketing_port(), stack_->sales_port()}) {
    ASSERT_GT(port, 0);
    EXPECT_TRUE(WaitForHealth(port, "", HealthCheckResponse::SERVING)) << "port " << port;
  }
  // Through the gateway, every forwarded service is as healthy as its owner.
  for (const char* service :
       {"funnel.marketing.v1.MarketingService", "funnel.sales.v1.SalesService",
        "funnel.handoff.v1.HandoffInboxService", "funnel.handoff.v1.HandoffFeedbackService",
        "funnel.gateway.v1.FunnelService"}) {
    EXPECT_TRUE(WaitForHealth(stack_->gateway_port(), service, HealthCheckResponse::SERVING))
        << service;
  }
}

TEST_F(FoundationTest, GatewayReflectionListsEveryPublicService) {
  auto result = BufCurl("--list-services " + GatewayUrl());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  for (const char* service :
       {"funnel.marketing.v1.MarketingService", "funnel.sales.v1.SalesService",
        "funnel.handoff.v1.HandoffInboxService", "funnel.handoff.v1.HandoffFeedbackService",
        "funnel.gateway.v1.FunnelService", "grpc.health.v1.Health"}) {
    EXPECT_THAT(result.output, HasSubstr(service));
  }
}

TEST_F(FoundationTest, HealthIsCallableThroughReflectionOnEveryServer) {
  ASSERT_TRUE(WaitForHealth(stack_->marketing_port(), "", HealthCheckResponse::SERVING));
  ASSERT_TRUE(WaitForHealth(stack_->sales_port(), "", HealthCheckResponse::SERVING));
  for (int port : {stack_->gateway_port(), stack_->marketing_port(), stack_->sales_port()}) {
    auto result = BufCurl(absl::StrCat("http://127.0.0.1:", port, "/grpc.health.v1.Health/Check"));
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_THAT(result.output, HasSubstr("\"SERVING\""));
  }
}

TEST_F(FoundationTest, ForwardsMarketingCallsWithTheirStatus) {
  auto result = BufCurl("-d '{\"lead_id\":\"424242\"}' " + GatewayUrl() +
                            "/funnel.marketing.v1.MarketingService/GetLead",
                        stack_->Key("MARKETING"));
  EXPECT_THAT(result.output, HasSubstr("not_found"));
  EXPECT_THAT(result.output, HasSubstr("lead 424242 not found"));

  // A lead that exists comes back whole.
  stack_->marketing_db().Execute(
      "INSERT INTO leads (lead_id, email, company) VALUES (7, 'ada@example.com', 'Analytical')");
  auto stub = marketing::v1::MarketingService::NewStub(stack_->GatewayChannel());
  grpc::ClientContext ctx;
  marketing::v1::GetLeadRequest request;
  request.set_lead_id(7);
  marketing::v1::Lead lead;
  grpc::Status status = stub->GetLead(&ctx, request, &lead);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(lead.contact().email(), "ada@example.com");
  EXPECT_EQ(lead.contact().company(), "Analytical");
}

// AIP-193 details travel through the gateway untouched: a bad capture names every
// bad field in its BadRequest, a stale etag says STALE_ETAG in its ErrorInfo, a
// bad key KEY_UNKNOWN.
TEST_F(FoundationTest, ErrorDetailsReachTheCallerThroughTheGateway) {
  auto stub = marketing::v1::MarketingService::NewStub(stack_->GatewayChannel());
  auto details_of = [](const grpc::Status& status) {
    google::rpc::Status details;
    EXPECT_TRUE(details.ParseFromString(status.error_details())) << status.error_message();
    google::rpc::ErrorInfo info;
    google::rpc::BadRequest bad;
    for (const auto& any : details.details()) {
      if (any.Is<google::rpc::ErrorInfo>()) any.UnpackTo(&info);
      if (any.Is<google::rpc::BadRequest>()) any.UnpackTo(&bad);
    }
    return std::make_pair(info, bad);
  };
  {
    grpc::ClientContext ctx;
    marketing::v1::CaptureLeadRequest r;
    r.mutable_contact()->set_email("not-an-address");
    r.mutable_contact()->set_first_name(std::string(201, 'a'));
    r.mutable_contact()->set_company_size(-1);
    r.set_campaign_id(-5);
    marketing::v1::CaptureLeadResponse out;
    const grpc::Status status = stub->CaptureLead(&ctx, r, &out);
    ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    auto [info, bad] = details_of(status);
    EXPECT_EQ(info.reason(), "FIELD_INVALID");
    EXPECT_EQ(info.domain(), "funnel.dev");
    std::vector<std::string> fields;
    for (const auto& v : bad.field_violations()) fields.push_back(v.field());
    EXPECT_THAT(fields, ElementsAre("contact.email", "contact.first_name", "contact.company_size",
                                    "campaign_id"));
    EXPECT_THAT(status.error_message(), HasSubstr("contact.company_size: must not be negative"));
  }
  {
    grpc::ClientContext ctx;
    marketing::v1::CaptureLeadRequest r;
    marketing::v1::CaptureLeadResponse out;
    auto stranger = marketing::v1::MarketingService::NewStub(stack_->GatewayChannel("not-a-key"));
    const grpc::Status status = stranger->CaptureLead(&ctx, r, &out);
    ASSERT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(details_of(status).first.reason(), "KEY_UNKNOWN");
  }
  marketing::v1::CaptureLeadResponse captured;
  {
    grpc::ClientContext ctx;
    marketing::v1::CaptureLeadRequest r;
    r.mutable_contact()->set_email("details@example.com");
    ASSERT_TRUE(stub->CaptureLead(&ctx, r, &captured).ok());
  }
  grpc::ClientContext ctx;
  marketing::v1::UpdateLeadRequest r;
  r.mutable_lead()->set_lead_id(captured.lead().lead_id());
  r.mutable_lead()->mutable_contact()->set_title("CTO");
  r.mutable_lead()->set_etag("999");
  r.mutable_update_mask()->add_paths("contact.title");
  marketing::v1::Lead out;
  const grpc::Status status = stub->UpdateLead(&ctx, r, &out);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::ABORTED) << status.error_message();
  EXPECT_EQ(details_of(status).first.reason(), "STALE_ETAG");
}

TEST_F(FoundationTest, ForwardsSalesCallsWithTheirStatus) {
  auto stub = sales::v1::SalesService::NewStub(stack_->GatewayChannel());
  {
    grpc::ClientContext ctx;
    sales::v1::GetRepRequest request;
    request.set_rep_id(-1);
    sales::v1::Rep rep;
    grpc::Status status = stub->GetRep(&ctx, request, &rep);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message(), "rep_id: must be positive");
  }
  {
    grpc::ClientContext ctx;
    sales::v1::GetRepRequest request;
    request.set_rep_id(99);
    sales::v1::Rep rep;
    grpc::Status status = stub->GetRep(&ctx, request, &rep);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(status.error_message(), "rep 99 not found");
  }
}

TEST_F(FoundationTest, UnknownMethodIsUnimplemented) {
  auto result = BufCurl("-d '{}' " + GatewayUrl() + "/funnel.sales.v1.SalesService/NoSuchMethod");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_EQ(testing::CallRaw(stack_->GatewayChannel(), "/funnel.nope.v1.Nope/Call").error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(FoundationTest, EachServiceUserReachesOnlyItsOwnDatabase) {
  common::DbOptions trespass = stack_->marketing_user();
  trespass.database = stack_->sales_db().name();
  common::ConnectionPool pool(trespass);
  // Refused for the database (MySQL error 1044, access denied), not for any other
  // reason: the same user reaches its own database.
  EXPECT_THAT(pool.Ping(), testing::StatusIs(absl::StatusCode::kInternal, HasSubstr("1044")));
  common::ConnectionPool own(stack_->marketing_user());
  EXPECT_TRUE(own.Ping().ok());
}

TEST_F(FoundationTest, ZZStopsCleanlyOnSigterm) {
  // Runs last (alphabetical order within the suite): SIGTERM drains and exits 0.
  EXPECT_TRUE(stack_->StopAll());
  EXPECT_THAT(stack_->marketing().Log(), HasSubstr("\"msg\":\"stopped\""));
}

// What a Kubernetes Job runs once per rollout: the schema applied, then exit 0,
// without ever serving.
TEST(MigrateOnlyTest, AppliesTheSchemaAndExitsWithoutServing) {
  testing::TestDatabase db("migrate_only");
  const common::DbOptions user = db.CreateOwnUser();
  const int port = testing::FreePort();
  testing::ChildProcess migrate(
      "marketing_service",
      {testing::BinaryPath("marketing_service"), "--migrate_only", absl::StrCat("--port=", port),
       absl::StrCat("--db_port=", user.port), "--db_name=" + user.database,
       "--db_user=" + user.user, "--allow_direct_calls"},
      {{"FUNNEL_DB_PASSWORD", user.password}});
  EXPECT_EQ(migrate.Wait(absl::Seconds(60)), 0) << migrate.Log();
  EXPECT_GT(db.QueryInt("SELECT COUNT(*) FROM schema_migrations"), 0);
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
                        "DATABASE() AND table_name = 'leads'"),
            1);
  EXPECT_EQ(HealthOf(port, ""), HealthCheckResponse::UNKNOWN);  // nothing answers
}

}  // namespace
}  // namespace funnel
