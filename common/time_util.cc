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

// FROM_UNIXTIME() truncates a DOUBLE parameter to microseconds, and the double
// nearest to a microsecond is below it about half the time: stored times came out
// a microsecond early. A quarter microsecond more (well over the rounding error of
// a double near 2e9 s, 0.12 us, and well under half a microsecond) lands every
// value on the microsecond it stands for.
double UnixSecondsOf(absl::Time t) {
  return (static_cast<double>(absl::ToUnixMicros(t)) + 0.25) / 1e6;
}

absl::Time TimeFromUnixSeconds(double seconds) {
  return absl::FromUnixMicros(static_cast<int64_t>(std::llround(seconds * 1e6)));
}

}  // namespace funnel::common
