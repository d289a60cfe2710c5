// marketing_service: owns funnel_marketing and serves funnel.marketing.v1.
#include <memory>

#include "handoff/service_main.h"
#include "marketing_service/campaign_store.h"
#include "marketing_service/feedback_service.h"
#include "marketing_service/feedback_store.h"
#include "marketing_service/lead_store.h"
#include "marketing_service/marketing_service.h"
#include "marketing_service/migrations.h"
#include "marketing_service/scoring_store.h"

namespace {

struct Services {
  Services(funnel::common::ConnectionPool* pool, std::function<void()> wake,
           const funnel::common::InternalGuard* guard)
      : leads(pool, std::move(wake)),
        campaigns(pool),
        scoring(pool),
        feedback(pool),
        marketing(&leads, &campaigns, &scoring, guard),
        feedback_service(&feedback, guard) {}
  funnel::marketing::LeadStore leads;
  funnel::marketing::CampaignStore campaigns;
  funnel::marketing::ScoringStore scoring;
  funnel::marketing::FeedbackStore feedback;
  funnel::marketing::MarketingServiceImpl marketing;
  funnel::marketing::HandoffFeedbackServiceImpl feedback_service;
};

}  // namespace

int main(int argc, char** argv) {
  funnel::handoff::DbServiceSpec spec;
  spec.name = "marketing";
  spec.default_port = 50052;
  spec.default_database = "funnel_marketing";
  spec.migrations = &funnel::marketing::Migrations();
  spec.install = [](funnel::common::ServiceHost& host, funnel::common::ConnectionPool& pool,
                    std::function<void()> wake, const funnel::common::InternalGuard* guard) {
    auto services = std::make_shared<Services>(&pool, std::move(wake), guard);
    host.AddService(&services->marketing, {"funnel.marketing.v1.MarketingService"});
    host.AddService(&services->feedback_service, {"funnel.handoff.v1.HandoffFeedbackService"});
    return absl::StatusOr<std::shared_ptr<void>>(std::move(services));
  };
  spec.on_delivered = &funnel::marketing::OnEventDelivered;
  return funnel::handoff::RunDbService(argc, argv, spec);
}
