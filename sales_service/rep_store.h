#pragma once

// SQL for sales' reps. The only place that knows the reps table.

#include <cstdint>

#include "absl/status/statusor.h"
#include "common/mysql/pool.h"
#include "funnel/sales/v1/sales_service.pb.h"

namespace funnel::sales {

class RepStore final {
 public:
  explicit RepStore(common::ConnectionPool* pool) : pool_(pool) {}

  // NOT_FOUND if no rep has this id.
  absl::StatusOr<v1::Rep> FindRep(int64_t rep_id);

 private:
  common::ConnectionPool* const pool_;
};

}  // namespace funnel::sales
