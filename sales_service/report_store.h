#pragma once

// SQL for quotas and the read-only reports: a rep's performance for a quarter and
// the pipeline. The arithmetic is in pipeline.h; this file only gathers the facts.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mysql/pool.h"
#include "common/request_key.h"
#include "funnel/sales/v1/sales_service.pb.h"
#include "sales_service/pipeline.h"

namespace funnel::sales {

class ReportStore final {
 public:
  explicit ReportStore(common::ConnectionPool* pool) : pool_(pool) {}

  // `quota` is validated. NOT_FOUND for an unknown rep.
  absl::StatusOr<v1::Quota> SetQuota(const v1::Quota& quota, const Caller& caller,
                                     const common::RequestKey& request_id);
  // NOT_FOUND for an unknown rep; PERMISSION_DENIED unless `caller` may see the
  // rep's figures (CheckCanSeeRep).
  absl::StatusOr<v1::RepPerformance> RepPerformance(int64_t rep_id, const std::string& quarter_text,
                                                    const Quarter& quarter, const Caller& caller);
  absl::StatusOr<v1::PipelineReport> Pipeline(int64_t rep_id, int64_t manager_rep_id,
                                              absl::Time now);
  // Sales' side of the funnel in [start, end), optionally for one campaign's leads
  // and/or only the given marketing leads (`lead_ids` when set; empty matches none).
  absl::StatusOr<v1::FunnelStats> FunnelStats(absl::Time start, absl::Time end, int64_t campaign_id,
                                              const std::optional<std::vector<int64_t>>& lead_ids);
  absl::StatusOr<handoff::v1::RelayStats> RelayStats(absl::Time now);

 private:
  common::ConnectionPool* const pool_;
};

}  // namespace funnel::sales
