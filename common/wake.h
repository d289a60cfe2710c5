#pragma once

#include <functional>

namespace funnel::common {

// Runs `wake` (the outbox relay's doorbell) when `result` is OK, then returns it:
// stores ring after a commit that may have written an outbox event.
template <typename Result>
Result WakeIfOk(Result result, const std::function<void()>& wake) {
  if (result.ok() && wake) wake();
  return result;
}

}  // namespace funnel::common
