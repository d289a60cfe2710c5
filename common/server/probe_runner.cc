#include "common/server/probe_runner.h"

#include "absl/strings/str_cat.h"

namespace funnel::common {

ProbeRunner::ProbeRunner(std::function<absl::Status()> probe)
    : probe_(std::move(probe)), thread_([this] { Loop(); }) {}

ProbeRunner::~ProbeRunner() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

absl::Status ProbeRunner::Run(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  if (!running_) {
    requested_ = true;
    running_ = true;
  }
  auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !running_; };
  if (!mu_.AwaitWithTimeout(absl::Condition(&done), timeout)) {
    return absl::UnavailableError(
        absl::StrCat("health probe did not answer within ", absl::FormatDuration(timeout)));
  }
  return result_;
}

void ProbeRunner::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto wanted = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return requested_ || stop_; };
      mu_.Await(absl::Condition(&wanted));
      if (stop_) return;
      requested_ = false;
    }
    absl::Status status = probe_();
    absl::MutexLock lock(&mu_);
    result_ = std::move(status);
    running_ = false;
  }
}

}  // namespace funnel::common
