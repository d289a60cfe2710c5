#pragma once

// Request ids: the gateway gives every call one (keeping a well-formed one the
// caller sent in x-request-id), forwards it to the service, and the relays send a
// contract event with the id of the call that caused it, so one id joins the
// gateway's, the service's and the relay's log lines about one thing that happened.

#include <string>

#include "absl/strings/string_view.h"

namespace funnel::common {

inline constexpr char kRequestIdHeader[] = "x-request-id";
inline constexpr size_t kMaxRequestIdBytes = 128;

// 1 to kMaxRequestIdBytes of [A-Za-z0-9._:-]: what fits in a log line and a
// database column as it is (a UUID, a trace id, a client's own counter).
bool IsWellFormedRequestId(absl::string_view id);

// A new random request id (a UUID).
std::string NewRequestId();

// The request id of the call the current thread serves (a blocking handler), or
// empty. Every log line written on the thread carries it.
const std::string& CurrentRequestId();

// Sets the current thread's request id (empty clears it): for an interceptor that
// sees a blocking call start and end on the thread that serves it.
void SetCurrentRequestId(std::string id);

// Makes `id` the current thread's request id until destroyed (then the previous).
class RequestIdScope final {
 public:
  explicit RequestIdScope(std::string id);
  ~RequestIdScope();
  RequestIdScope(const RequestIdScope&) = delete;
  RequestIdScope& operator=(const RequestIdScope&) = delete;

 private:
  std::string previous_;
};

}  // namespace funnel::common
