#pragma once

// An in-process sales server on a free port over a fresh database, with helpers to
// create reps and deliver handoffs as marketing's relay would.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/mysql/migrations.h"
#include "common/server/principal.h"
#include "common/server/request_log.h"
#include "common/server/service_host.h"
#include "handoff/schema.h"
#include "sales_service/migrations.h"
#include "sales_service/sales_service.h"
#include "tests/testing/harness.h"

namespace funnel::sales {

class SalesFixture : public ::testing::Test {
 protected:
  SalesFixture()
      : db_("sa"),
        pool_(db_.options()),
        directory_(&pool_),
        inbox_(&pool_, absl::Hours(24)),
        opportunities_(&pool_),
        reports_(&pool_),
        routing_(&pool_),
        service_({&directory_, &inbox_, &opportunities_, &reports_, &routing_}),
        inbox_service_(&inbox_) {}

  void SetUp() override {
    ASSERT_TRUE(handoff::ApplySchema(pool_, Migrations()).ok());
    common::ServiceHostOptions options;
    options.name = "sales-test";
    options.host = "127.0.0.1";
    host_ = std::make_unique<common::ServiceHost>(options);
    host_->AddService(&service_, {"funnel.sales.v1.SalesService"});
    host_->AddService(&inbox_service_, {"funnel.handoff.v1.HandoffInboxService"});
    ASSERT_TRUE(host_->Start().ok());
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", host_->port()),
                                       grpc::InsecureChannelCredentials());
    stub_ = v1::SalesService::NewStub(channel);
    inbox_stub_ = handoff::v1::HandoffInboxService::NewStub(channel);
  }
  void TearDown() override { host_->Shutdown(); }

  int64_t Rep(const std::string& name, v1::RepRole role, int64_t manager = 0) {
    v1::Rep r;
    r.set_name(name);
    r.set_email(absl::StrCat(name, "@corp.example"));
    r.set_role(role);
    r.set_manager_rep_id(manager);
    auto created = directory_.CreateRep(r, "");
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->rep_id() : 0;
  }

  handoff::v1::LeadHandoff Lead(int64_t lead_id, const std::string& email,
                                const std::string& company) {
    handoff::v1::LeadHandoff h;
    h.set_handoff_id(common::NewUuid());
    h.set_lead_id(lead_id);
    h.mutable_contact()->set_email(email);
    h.mutable_contact()->set_company(company);
    h.set_score(72);
    h.set_temperature(handoff::v1::TEMPERATURE_HOT);
    h.set_contract_version("1.0");
    return h;
  }

  // Metadata of a caller as the gateway forwards it.
  static void As(grpc::ClientContext* ctx, const std::string& role, int64_t rep_id) {
    ctx->AddMetadata(common::kPrincipalIdHeader, absl::StrCat(role, "-", rep_id));
    ctx->AddMetadata(common::kRoleHeader, role);
    ctx->AddMetadata(common::kRepIdHeader, absl::StrCat(rep_id));
  }

  funnel::testing::TestDatabase db_;
  common::ConnectionPool pool_;
  DirectoryStore directory_;
  InboxStore inbox_;
  OpportunityStore opportunities_;
  ReportStore reports_;
  RoutingStore routing_;
  SalesServiceImpl service_;
  HandoffInboxServiceImpl inbox_service_;
  std::unique_ptr<common::ServiceHost> host_;
  std::unique_ptr<v1::SalesService::Stub> stub_;
  std::unique_ptr<handoff::v1::HandoffInboxService::Stub> inbox_stub_;
};

}  // namespace funnel::sales
