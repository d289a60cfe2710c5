#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <algorithm>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace funnel::common {

struct TimeRange {
  absl::Time start;
  absl::Time end;
};

// What a TIMESTAMP column can hold. A range bound outside it keeps MariaDB from
// using an index range (1970-01-01 00:00:00 turned an "all time" count of 1M leads
// into a full index scan), and no stored time lies outside it anyway.
inline constexpr absl::Time kEarliestStoredTime = absl::FromUnixSeconds(1);
inline constexpr absl::Time kLatestStoredTime = absl::FromUnixSeconds((int64_t{1} << 31) - 1);

// A time a write stores: within what a TIMESTAMP column holds, so that what the
// call answers is what was stored. INVALID_ARGUMENT naming `field` otherwise.
inline absl::Status RequireStorableTime(const google::protobuf::Timestamp& t,
                                        absl::string_view field) {
  const absl::Time time = absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
  if (t.nanos() < 0 || t.nanos() > 999'999'999 || time < kEarliestStoredTime ||
      time > kLatestStoredTime) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must lie between 1970-01-01T00:00:01Z and 2038-01-19T03:14:07Z"));
  }
  return absl::OkStatus();
}

// A date that may lie past 2038 (a campaign's end): what a DATETIME(6) column holds,
// 1000-01-01 to 9999-12-31 UTC. INVALID_ARGUMENT naming `field` otherwise.
inline absl::Status RequireDatetime(const google::protobuf::Timestamp& t, absl::string_view field) {
  const absl::Time time = absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
  static const absl::Time kFirst =
      absl::FromCivil(absl::CivilSecond(1000, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  static const absl::Time kEnd =
      absl::FromCivil(absl::CivilSecond(10000, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  if (t.nanos() < 0 || t.nanos() > 999'999'999 || time < kFirst || time >= kEnd) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must lie between 1000-01-01 and 9999-12-31"));
  }
  return absl::OkStatus();
}

// [start_time, end_time) of a report request: unset start is the beginning, unset
// end is `now`; both are clamped to what TIMESTAMP columns hold. INVALID_ARGUMENT
// "end_time: ..." when end is not after start.
inline absl::StatusOr<TimeRange> ReportRange(bool has_start,
                                             const google::protobuf::Timestamp& start, bool has_end,
                                             const google::protobuf::Timestamp& end,
                                             absl::Time now) {
  TimeRange r{
      has_start ? absl::FromUnixSeconds(start.seconds()) + absl::Nanoseconds(start.nanos())
                : kEarliestStoredTime,
      has_end ? absl::FromUnixSeconds(end.seconds()) + absl::Nanoseconds(end.nanos()) : now};
  if (r.end <= r.start) return absl::InvalidArgumentError("end_time: must be after start_time");
  r.start = std::clamp(r.start, kEarliestStoredTime, kLatestStoredTime);
  r.end = std::clamp(r.end, kEarliestStoredTime, kLatestStoredTime);
  return r;
}

}  // namespace funnel::common
