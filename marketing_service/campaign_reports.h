#pragma once

// Marketing's reports: a campaign's metrics, and marketing's side of the funnel.
// They read the report counters (report_aggregates.h), leads, handoffs and
// attributions; they write nothing.

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mysql/pool.h"
#include "funnel/marketing/v1/marketing_service.pb.h"
#include "marketing_service/campaign_store.h"
#include "marketing_service/segment_store.h"

namespace funnel::marketing {

class CampaignReports final {
 public:
  CampaignReports(common::ConnectionPool* pool, CampaignStore* campaigns, SegmentStore* segments)
      : pool_(pool), campaigns_(campaigns), segments_(segments) {}

  // NOT_FOUND for an unknown campaign.
  absl::StatusOr<v1::CampaignMetrics> Metrics(int64_t campaign_id, absl::Time now);
  // Marketing's side of the funnel in [start, end), optionally for leads first
  // touched by one campaign and/or matching one segment now (then with the ids of
  // the segment's leads ever handed to sales). NOT_FOUND for an unknown segment;
  // INVALID_ARGUMENT when the segment has more handed-off leads than a report lists.
  absl::StatusOr<v1::FunnelStats> FunnelStats(absl::Time start, absl::Time end, int64_t campaign_id,
                                              int64_t segment_id);

 private:
  common::ConnectionPool* const pool_;
  CampaignStore* const campaigns_;
  SegmentStore* const segments_;
};

}  // namespace funnel::marketing
