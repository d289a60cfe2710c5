#include "marketing_service/service_spec.h"

#include <memory>

#include "marketing_service/campaign_reports.h"
#include "marketing_service/campaign_store.h"
#include "marketing_service/feedback_service.h"
#include "marketing_service/feedback_store.h"
#include "marketing_service/leads/lead_store.h"
#include "marketing_service/marketing_service.h"
#include "marketing_service/migrations.h"
#include "marketing_service/scoring_store.h"
#include "marketing_service/segment_store.h"

namespace funnel::marketing {

namespace {

struct Services {
  Services(common::ConnectionPool* pool, std::function<void()> wake,
           const common::InternalGuard* guard, feed::FeedHub* feed)
      : leads(pool, std::move(wake)),
        campaigns(pool),
        segments(pool),
        reports(pool, &campaigns, &segments),
        scoring(pool),
        feedback(pool),
        marketing({&leads, &campaigns, &segments, &reports, &scoring, feed}, guard),
        feedback_service(&feedback, guard) {}
  LeadStore leads;
  CampaignStore campaigns;
  SegmentStore segments;
  CampaignReports reports;
  ScoringStore scoring;
  FeedbackStore feedback;
  MarketingServiceImpl marketing;
  HandoffFeedbackServiceImpl feedback_service;
};

}  // namespace

handoff::DbServiceSpec MarketingServiceSpec() {
  handoff::DbServiceSpec spec;
  spec.name = "marketing";
  spec.default_port = 50052;
  spec.default_database = "funnel_marketing";
  spec.migrations = &Migrations();
  spec.feed_entity_types = {"lead", "campaign"};
  spec.install = [](common::ServiceHost& host, common::ConnectionPool& pool,
                    std::function<void()> wake, const common::InternalGuard* guard,
                    feed::FeedHub* feed) {
    auto services = std::make_shared<Services>(&pool, std::move(wake), guard, feed);
    host.AddService(&services->marketing, {kServedServices[0]});
    host.AddService(&services->feedback_service, {kServedServices[1]});
    return absl::StatusOr<std::shared_ptr<void>>(std::move(services));
  };
  spec.on_delivered = &OnEventDelivered;
  return spec;
}

}  // namespace funnel::marketing
