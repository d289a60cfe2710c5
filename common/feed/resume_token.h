#pragma once

// A change-feed position as the opaque resume_token watchers hold: the feed's
// name and the event's seq, so one service's token is never read as another's.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace funnel::feed {

std::string EncodeResumeToken(absl::string_view feed, int64_t seq);
// The seq in `token`; INVALID_ARGUMENT "resume_token: ..." when it is not a
// token of `feed`.
absl::StatusOr<int64_t> DecodeResumeToken(absl::string_view feed, absl::string_view token);

}  // namespace funnel::feed
