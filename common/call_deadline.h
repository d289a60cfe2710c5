#pragma once

// The deadline of the call the current thread serves, so that the database work
// done for it is bounded by it: a blocking handler's thread carries its call's
// deadline from the first interceptor hook to the status (request_log.cc), and the
// connection pool reads it (pool.cc). Work done for several callers at once (a
// group commit) runs without one: one caller's deadline must not fail the others.

#include "absl/time/time.h"

namespace funnel::common {

// The current call's deadline; InfiniteFuture when none.
absl::Time CurrentCallDeadline();

// Sets the current thread's call deadline (InfiniteFuture clears it).
void SetCurrentCallDeadline(absl::Time deadline);

// Makes `deadline` the current thread's call deadline until destroyed.
class CallDeadlineScope final {
 public:
  explicit CallDeadlineScope(absl::Time deadline);
  ~CallDeadlineScope();
  CallDeadlineScope(const CallDeadlineScope&) = delete;
  CallDeadlineScope& operator=(const CallDeadlineScope&) = delete;

 private:
  absl::Time previous_;
};

}  // namespace funnel::common
