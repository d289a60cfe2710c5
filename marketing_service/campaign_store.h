#pragma once

// SQL for campaigns and segments, and the campaign metrics read from touchpoints,
// leads and handoffs.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mysql/pool.h"
#include "common/request_key.h"
#include "funnel/marketing/v1/marketing_service.pb.h"

namespace funnel::marketing {

class CampaignStore final {
 public:
  explicit CampaignStore(common::ConnectionPool* pool) : pool_(pool) {}

  // `campaign` is validated; it is created in DRAFT. NOT_FOUND for an unknown
  // target segment.
  absl::StatusOr<v1::Campaign> Create(const v1::Campaign& campaign,
                                      const common::RequestKey& request_id);
  absl::StatusOr<v1::Campaign> Get(int64_t campaign_id);
  absl::StatusOr<v1::ListCampaignsResponse> List(v1::CampaignState state, v1::Channel channel,
                                                 int page_size, const std::string& page_token);
  // Applies `paths` of `campaign`; ABORTED on a stale etag; FAILED_PRECONDITION for
  // a state change the life cycle forbids; INVALID_ARGUMENT when the result is
  // inconsistent (end before start, cost currency differs from budget).
  absl::StatusOr<v1::Campaign> Update(const v1::Campaign& campaign,
                                      const std::vector<std::string>& paths,
                                      const common::RequestKey& request_id);
  absl::StatusOr<v1::CampaignMetrics> Metrics(int64_t campaign_id, absl::Time now);
  // Marketing's side of the funnel in [start, end), optionally for leads first
  // touched by one campaign and/or matching one segment now (then with the ids of
  // the segment's leads ever handed to sales). NOT_FOUND for an unknown segment.
  absl::StatusOr<v1::FunnelStats> FunnelStats(absl::Time start, absl::Time end, int64_t campaign_id,
                                              int64_t segment_id);

  // ALREADY_EXISTS for a taken name.
  absl::StatusOr<v1::Segment> CreateSegment(const v1::Segment& segment,
                                            const common::RequestKey& request_id);
  absl::StatusOr<v1::Segment> GetSegment(int64_t segment_id);
  absl::StatusOr<v1::ListSegmentsResponse> ListSegments(int page_size,
                                                        const std::string& page_token);

 private:
  common::ConnectionPool* const pool_;
};

// INVALID_ARGUMENT naming the field for a campaign that cannot be stored.
absl::Status ValidateCampaign(const v1::Campaign& campaign);

}  // namespace funnel::marketing
