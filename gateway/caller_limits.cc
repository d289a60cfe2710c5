#include "gateway/caller_limits.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/metrics.h"
#include "common/status.h"

namespace funnel::gateway {

absl::StatusOr<CallerLimit> ParseCallerLimit(const std::vector<std::string>& fields) {
  CallerLimit limit;
  bool burst_set = false;
  for (const std::string& field : fields) {
    std::pair<std::string, std::string> kv = absl::StrSplit(field, absl::MaxSplits('=', 1));
    double value = 0;
    // Finite and bounded: "inf", "nan" and 1e47 parse as doubles, and the last
    // would not convert to a whole number of calls.
    if (!absl::SimpleAtod(kv.second, &value) || !(value >= 0 && value <= kMaxLimitValue) ||
        (kv.first == "in_flight" && value != std::floor(value))) {
      return absl::InvalidArgumentError(absl::StrCat("limit ", kv.first,
                                                     ": want a number from 0 to ", kMaxLimitValue,
                                                     kv.first == "in_flight" ? ", whole" : ""));
    }
    if (kv.first == "rate") {
      limit.rate = value;
    } else if (kv.first == "burst") {
      limit.burst = value;
      burst_set = true;
    } else if (kv.first == "in_flight") {
      limit.max_in_flight = static_cast<int>(value);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("limit: unknown field ", kv.first, " (want rate, burst, in_flight)"));
    }
  }
  if (!burst_set) limit.burst = limit.rate;
  if (limit.rate > 0 && limit.burst < 1) {
    return absl::InvalidArgumentError("limit burst: at least 1 when a rate is set");
  }
  return limit;
}

bool TokenBucket::Take(double rate, double burst, absl::Time now, absl::Duration* wait) {
  if (!started_ || now < last_) {
    started_ = true;
    tokens_ = burst;
    last_ = now;
  }
  tokens_ = std::min(burst, tokens_ + rate * absl::ToDoubleSeconds(now - last_));
  last_ = now;
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return true;
  }
  *wait = absl::Seconds((1 - tokens_) / rate);
  return false;
}

struct CallPermit::Counter {
  std::atomic<int> in_flight{0};
};

struct CallerLimiter::State {
  absl::Mutex mu;
  TokenBucket bucket ABSL_GUARDED_BY(mu);
  CallPermit::Counter counter;
};

CallPermit& CallPermit::operator=(CallPermit&& other) noexcept {
  if (this != &other) {
    if (counter_ != nullptr) counter_->in_flight.fetch_sub(1);
    counter_ = other.counter_;
    other.counter_ = nullptr;
  }
  return *this;
}

CallPermit::~CallPermit() {
  if (counter_ != nullptr) counter_->in_flight.fetch_sub(1);
}

CallerLimiter::CallerLimiter() = default;
CallerLimiter::~CallerLimiter() = default;

CallerLimiter::State* CallerLimiter::StateOf(const std::string& principal_id) {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = states_.find(principal_id);
    if (it != states_.end()) return it->second.get();
  }
  absl::MutexLock lock(&mu_);
  std::unique_ptr<State>& state = states_[principal_id];
  if (state == nullptr) state = std::make_unique<State>();
  return state.get();
}

namespace {

void CountLimitHit(const char* limit) {
  static prometheus::Family<prometheus::Counter>& hits = common::CounterFamily(
      "funnel_gateway_caller_limit_hits_total",
      "Calls refused because their caller was over a per-caller limit, by limit.");
  hits.Add({{"limit", limit}}).Increment();
}

}  // namespace

absl::StatusOr<CallPermit> CallerLimiter::Acquire(const std::string& principal_id,
                                                  const CallerLimit& limit, absl::Time now) {
  if (limit.rate <= 0 && limit.max_in_flight <= 0) return CallPermit();
  State* state = StateOf(principal_id);
  if (limit.max_in_flight > 0) {
    if (state->counter.in_flight.fetch_add(1) >= limit.max_in_flight) {
      state->counter.in_flight.fetch_sub(1);
      CountLimitHit("in_flight");
      absl::Status status = absl::ResourceExhaustedError(
          absl::StrCat("caller ", principal_id, " has ", limit.max_in_flight,
                       " calls in flight, its most; retry when one has finished"));
      common::SetRetryAfter(status, absl::Milliseconds(100));
      status = common::WithReason(std::move(status), errors::v1::CALLER_IN_FLIGHT_LIMITED);
      return status;
    }
  } else {
    state->counter.in_flight.fetch_add(1);
  }
  CallPermit permit(&state->counter);
  if (limit.rate > 0) {
    absl::Duration wait;
    absl::MutexLock lock(&state->mu);
    if (!state->bucket.Take(limit.rate, limit.burst, now, &wait)) {
      const int64_t wait_ms =
          std::max<int64_t>(1, absl::ToInt64Milliseconds(absl::Ceil(wait, absl::Milliseconds(1))));
      CountLimitHit("rate");
      absl::Status status = absl::ResourceExhaustedError(
          absl::StrFormat("caller %s is over its limit of %g calls per second; retry in %d ms",
                          principal_id, limit.rate, wait_ms));
      common::SetRetryAfter(status, absl::Milliseconds(wait_ms));
      status = common::WithReason(std::move(status), errors::v1::CALLER_RATE_LIMITED);
      return status;
    }
  }
  return permit;
}

}  // namespace funnel::gateway
