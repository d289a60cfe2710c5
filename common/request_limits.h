#pragma once

// Sizes every request is held to before any handler touches the database: no
// string or bytes field longer than kMaxFieldBytes and no repeated field with more
// than kMaxListEntries, at any depth. Handlers check tighter limits of their own
// (a name's 200 characters); these bound what no field may exceed.

#include <cstddef>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace funnel::common {

inline constexpr size_t kMaxFieldBytes = 64 * 1024;
// Below MariaDB's 65,535 placeholders in one statement.
inline constexpr int kMaxListEntries = 50'000;

// INVALID_ARGUMENT naming the first field over a limit ("segment.description:
// longer than 65536 bytes"), OK otherwise.
absl::Status CheckRequestSizes(const google::protobuf::Message& request);

}  // namespace funnel::common
