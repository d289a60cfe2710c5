#pragma once

// SQL for the scoring policy (one row of scoring_policy), and the closed-loop
// outcomes it is calibrated from (calibration.h).

#include <cppconn/connection.h>

#include <vector>

#include "absl/status/statusor.h"
#include "common/mysql/pool.h"
#include "common/request_key.h"
#include "common/time_range.h"
#include "funnel/marketing/v1/marketing_service.pb.h"
#include "marketing_service/calibration.h"

namespace funnel::marketing {

// Reads the policy in force inside a caller's transaction (the built-in default
// until someone updates it). With `for_update`, locks it until commit.
v1::ScoringPolicy LoadPolicy(sql::Connection& conn, bool for_update = false);

class ScoringStore final {
 public:
  explicit ScoringStore(common::ConnectionPool* pool) : pool_(pool) {}

  absl::StatusOr<v1::ScoringPolicy> Get();
  // Replaces the policy with `policy` (already merged and validated by the caller)
  // if `expected_etag` is empty or current; ABORTED otherwise.
  absl::StatusOr<v1::ScoringPolicy> Update(const v1::ScoringPolicy& policy,
                                           const std::string& expected_etag,
                                           const common::RequestKey& request_id);

  // The handoffs made in `range` whose deal was won, lost or rejected, of leads not
  // erased, with their touches before the handoff decayed by `half_life_days` (0:
  // no decay) and the lead's fit attributes as they are now.
  absl::StatusOr<std::vector<CalibrationOutcome>> Outcomes(const common::TimeRange& range,
                                                           double half_life_days);

 private:
  common::ConnectionPool* const pool_;
};

}  // namespace funnel::marketing
