#pragma once

// SQL for marketing's leads. The only place that knows the leads table.

#include <cstdint>

#include "absl/status/statusor.h"
#include "common/mysql/pool.h"
#include "funnel/marketing/v1/marketing_service.pb.h"

namespace funnel::marketing {

class LeadStore final {
 public:
  explicit LeadStore(common::ConnectionPool* pool) : pool_(pool) {}

  // NOT_FOUND if no lead has this id.
  absl::StatusOr<v1::Lead> FindLead(int64_t lead_id);

 private:
  common::ConnectionPool* const pool_;
};

}  // namespace funnel::marketing
