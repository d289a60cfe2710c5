#pragma once

// SQL for segments: named, saved lead criteria (segment_criteria.h turns them into
// SQL for lead listings and reports).

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/mysql/pool.h"
#include "common/request_key.h"
#include "funnel/marketing/v1/marketing_service.pb.h"

namespace funnel::marketing {

class SegmentStore final {
 public:
  explicit SegmentStore(common::ConnectionPool* pool) : pool_(pool) {}

  // `segment` is validated. ALREADY_EXISTS "segment.name: ..." for a taken name.
  absl::StatusOr<v1::Segment> Create(const v1::Segment& segment,
                                     const common::RequestKey& request_id);
  // NOT_FOUND for an unknown segment.
  absl::StatusOr<v1::Segment> Get(int64_t segment_id);
  // INVALID_ARGUMENT "page_token: ..." for a token of another listing.
  absl::StatusOr<v1::ListSegmentsResponse> List(int page_size, const std::string& page_token);

 private:
  common::ConnectionPool* const pool_;
};

}  // namespace funnel::marketing
