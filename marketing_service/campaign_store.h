#pragma once

// SQL for campaigns. Segments are in segment_store.h, a campaign's metrics in
// campaign_reports.h.

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
  // NOT_FOUND for an unknown campaign.
  absl::StatusOr<v1::Campaign> Get(int64_t campaign_id);
  // INVALID_ARGUMENT "page_token: ..." for a token of another listing.
  absl::StatusOr<v1::ListCampaignsResponse> List(v1::CampaignState state, v1::Channel channel,
                                                 int page_size, const std::string& page_token);
  // Applies `paths` of `campaign`. NOT_FOUND for an unknown campaign or target
  // segment; ABORTED on a stale etag; FAILED_PRECONDITION for
  // a state change the life cycle forbids; INVALID_ARGUMENT when the result is
  // inconsistent (end before start, cost currency differs from budget).
  absl::StatusOr<v1::Campaign> Update(const v1::Campaign& campaign,
                                      const std::vector<std::string>& paths,
                                      const common::RequestKey& request_id);

 private:
  common::ConnectionPool* const pool_;
};

// INVALID_ARGUMENT naming the field for a campaign that cannot be stored.
absl::Status ValidateCampaign(const v1::Campaign& campaign);

}  // namespace funnel::marketing
