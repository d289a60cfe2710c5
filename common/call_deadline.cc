#include "common/call_deadline.h"

namespace funnel::common {
namespace {
thread_local absl::Time current_call_deadline = absl::InfiniteFuture();
}  // namespace

absl::Time CurrentCallDeadline() { return current_call_deadline; }

void SetCurrentCallDeadline(absl::Time deadline) { current_call_deadline = deadline; }

CallDeadlineScope::CallDeadlineScope(absl::Time deadline) : previous_(current_call_deadline) {
  current_call_deadline = deadline;
}

CallDeadlineScope::~CallDeadlineScope() { current_call_deadline = previous_; }

}  // namespace funnel::common
