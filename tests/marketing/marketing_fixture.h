#pragma once

// An in-process marketing server on a free port over a fresh database: the stores
// for store tests and a stub for service tests.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/mysql/migrations.h"
#include "common/server/service_host.h"
#include "funnel/marketing/v1/marketing_service.grpc.pb.h"
#include "handoff/schema.h"
#include "marketing_service/campaign_store.h"
#include "marketing_service/leads/lead_store.h"
#include "marketing_service/marketing_service.h"
#include "marketing_service/migrations.h"
#include "marketing_service/scoring_store.h"
#include "tests/testing/harness.h"

namespace funnel::marketing {

class MarketingFixture : public ::testing::Test {
 protected:
  MarketingFixture()
      : db_("mk"),
        pool_(PoolOptions(db_.options())),
        leads_(&pool_),
        campaigns_(&pool_),
        segments_(&pool_),
        reports_(&pool_, &campaigns_, &segments_),
        scoring_(&pool_),
        service_({&leads_, &campaigns_, &segments_, &reports_, &scoring_}) {}

  void SetUp() override {
    ASSERT_TRUE(handoff::ApplySchema(pool_, Migrations()).ok());
    common::ServiceHostOptions options;
    options.name = "marketing-test";
    options.host = "127.0.0.1";
    host_ = std::make_unique<common::ServiceHost>(options);
    host_->AddService(&service_, {"funnel.marketing.v1.MarketingService"});
    ASSERT_TRUE(host_->Start().ok());
    stub_ = v1::MarketingService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", host_->port()), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override { host_->Shutdown(); }

  static common::DbOptions PoolOptions(common::DbOptions options) {
    options.pool_size = 24;
    return options;
  }

  // A capture request with a touchpoint of `type` from `campaign_id`.
  static v1::CaptureLeadRequest Capture(
      const std::string& email, int64_t campaign_id = 0,
      handoff::v1::TouchpointType type = handoff::v1::TOUCHPOINT_TYPE_UNSPECIFIED) {
    v1::CaptureLeadRequest r;
    r.mutable_contact()->set_email(email);
    r.set_campaign_id(campaign_id);
    r.set_touchpoint_type(type);
    return r;
  }

  // Creates an ACTIVE campaign and returns its id.
  int64_t ActiveCampaign(const std::string& name, int64_t cost_minor = 0) {
    v1::Campaign c;
    c.set_name(name);
    c.set_channel(v1::CHANNEL_EMAIL);
    c.mutable_actual_cost()->set_currency_code("USD");
    c.mutable_actual_cost()->set_amount_minor(cost_minor);
    auto created = campaigns_.Create(c, "");
    EXPECT_TRUE(created.ok()) << created.status();
    v1::Campaign update;
    update.set_campaign_id(created->campaign_id());
    update.set_state(v1::CAMPAIGN_STATE_ACTIVE);
    EXPECT_TRUE(campaigns_.Update(update, {"state"}, "").ok());
    return created->campaign_id();
  }

  funnel::testing::TestDatabase db_;
  common::ConnectionPool pool_;
  LeadStore leads_;
  CampaignStore campaigns_;
  SegmentStore segments_;
  CampaignReports reports_;
  ScoringStore scoring_;
  MarketingServiceImpl service_;
  std::unique_ptr<common::ServiceHost> host_;
  std::unique_ptr<v1::MarketingService::Stub> stub_;
};

}  // namespace funnel::marketing
