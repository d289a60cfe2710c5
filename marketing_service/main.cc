// marketing_service: owns funnel_marketing and serves funnel.marketing.v1.
#include <memory>

#include "common/server/db_service_main.h"
#include "marketing_service/campaign_store.h"
#include "marketing_service/lead_store.h"
#include "marketing_service/scoring_store.h"
#include "marketing_service/marketing_service.h"
#include "marketing_service/migrations.h"

namespace {

struct Services {
  explicit Services(funnel::common::ConnectionPool* pool)
      : leads(pool), campaigns(pool), scoring(pool), marketing(&leads, &campaigns, &scoring) {}
  funnel::marketing::LeadStore leads;
  funnel::marketing::CampaignStore campaigns;
  funnel::marketing::ScoringStore scoring;
  funnel::marketing::MarketingServiceImpl marketing;
};

}  // namespace

int main(int argc, char** argv) {
  funnel::common::DbServiceSpec spec;
  spec.name = "marketing";
  spec.default_port = 50052;
  spec.default_database = "funnel_marketing";
  spec.migrations = &funnel::marketing::Migrations();
  spec.install = [](funnel::common::ServiceHost& host, funnel::common::ConnectionPool& pool) {
    auto services = std::make_shared<Services>(&pool);
    host.AddService(&services->marketing, {"funnel.marketing.v1.MarketingService"});
    return std::shared_ptr<void>(services);
  };
  return funnel::common::RunDbService(argc, argv, spec);
}
