#include "common/time_util.h"

#include <cmath>

namespace funnel::common {

google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t micros = absl::ToUnixMicros(t);
  ts.set_seconds(micros >= 0 ? micros / 1000000 : (micros - 999999) / 1000000);
  ts.set_nanos(static_cast<int32_t>((micros - ts.seconds() * 1000000) * 1000));
  return ts;
}

absl::Time FromProtoTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

double UnixSecondsOf(absl::Time t) { return absl::ToUnixMicros(t) / 1e6; }

absl::Time TimeFromUnixSeconds(double seconds) {
  return absl::FromUnixMicros(static_cast<int64_t>(std::llround(seconds * 1e6)));
}

}  // namespace funnel::common
