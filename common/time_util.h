#pragma once

#include <google/protobuf/timestamp.pb.h>

#include "absl/time/time.h"

namespace funnel::common {

google::protobuf::Timestamp ToProtoTime(absl::Time t);
absl::Time FromProtoTime(const google::protobuf::Timestamp& ts);
// Seconds since the epoch with microseconds, as UNIX_TIMESTAMP() returns and
// FROM_UNIXTIME() takes.
double UnixSecondsOf(absl::Time t);
absl::Time TimeFromUnixSeconds(double seconds);

}  // namespace funnel::common
