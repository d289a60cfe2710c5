#pragma once

// Runs a health probe on a thread of its own, so that a probe that hangs (a
// database that stopped answering without closing its connections) counts as a
// failure after a timeout instead of freezing health at its last answer.

#include <functional>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace funnel::common {

class ProbeRunner final {
 public:
  explicit ProbeRunner(std::function<absl::Status()> probe);
  // Waits for a run in progress: a hung probe is bounded by its own I/O timeouts.
  ~ProbeRunner();

  // Starts a run (unless the last one is still going) and waits up to `timeout`
  // for it: its status, or UNAVAILABLE "... did not answer within ..." when it is
  // still running.
  absl::Status Run(absl::Duration timeout);

 private:
  void Loop();

  const std::function<absl::Status()> probe_;
  absl::Mutex mu_;
  bool requested_ ABSL_GUARDED_BY(mu_) = false;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status result_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace funnel::common
