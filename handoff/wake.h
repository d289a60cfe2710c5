#pragma once

#include <functional>

#include "handoff/outbox.h"

namespace funnel::handoff {

// Runs `wake` (the outbox relay's doorbell) when `result` is OK and the
// transaction behind it wrote an outbox event, then returns it. A write that was
// rolled back and retried may ring once for nothing; a commit with an event always
// rings (the relay's periodic poll is only the safety net).
template <typename Result>
Result WakeIfOk(Result result, const std::function<void()>& wake) {
  if (TakeOutboxWritten() && result.ok() && wake) wake();
  return result;
}

}  // namespace funnel::handoff
