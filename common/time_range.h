#pragma once

#include <google/protobuf/timestamp.pb.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace funnel::common {

struct TimeRange {
  absl::Time start;
  absl::Time end;
};

// [start_time, end_time) of a report request: unset start is the epoch, unset end
// is `now`. INVALID_ARGUMENT "end_time: ..." when end is not after start.
inline absl::StatusOr<TimeRange> ReportRange(bool has_start, const google::protobuf::Timestamp& start,
                                             bool has_end, const google::protobuf::Timestamp& end,
                                             absl::Time now) {
  TimeRange r{has_start ? absl::FromUnixSeconds(start.seconds()) + absl::Nanoseconds(start.nanos())
                        : absl::UnixEpoch(),
              has_end ? absl::FromUnixSeconds(end.seconds()) + absl::Nanoseconds(end.nanos()) : now};
  if (r.end <= r.start) return absl::InvalidArgumentError("end_time: must be after start_time");
  return r;
}

}  // namespace funnel::common
