#pragma once

// Per-caller fairness at the door: each principal has its own token bucket (calls
// per second, with a burst) and its own cap on calls in flight (streams included),
// set per role in the policy file. One caller over its limit is answered
// RESOURCE_EXHAUSTED with a retry hint; nobody else notices.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace funnel::gateway {

// A role's limits; 0 means none.
struct CallerLimit {
  double rate = 0;        // calls per second, sustained
  double burst = 0;       // calls at once after a quiet spell (default: rate)
  int max_in_flight = 0;  // calls (and streams) open at once
};

// The largest rate, burst or in_flight a limit line may give.
inline constexpr double kMaxLimitValue = 1e6;

// Parses "rate=<calls/s> burst=<calls> in_flight=<calls>" fields (any subset), each
// from 0 to kMaxLimitValue (in_flight a whole number). INVALID_ARGUMENT naming the
// field.
absl::StatusOr<CallerLimit> ParseCallerLimit(const std::vector<std::string>& fields);

// A token bucket (pure): `burst` tokens at most, refilled at `rate` per second.
class TokenBucket final {
 public:
  // Takes a token if there is one; otherwise sets `*wait` to when there will be.
  bool Take(double rate, double burst, absl::Time now, absl::Duration* wait);

 private:
  bool started_ = false;
  double tokens_ = 0;
  absl::Time last_;
};

class CallerLimiter;

// One admitted call's place in its caller's in-flight count; given back when
// destroyed.
class CallPermit final {
 public:
  CallPermit() = default;
  CallPermit(CallPermit&& other) noexcept : counter_(other.counter_) { other.counter_ = nullptr; }
  CallPermit& operator=(CallPermit&& other) noexcept;
  ~CallPermit();

 private:
  friend class CallerLimiter;
  struct Counter;
  explicit CallPermit(Counter* counter) : counter_(counter) {}
  Counter* counter_ = nullptr;
};

class CallerLimiter final {
 public:
  CallerLimiter();
  ~CallerLimiter();

  // Admits one call of `principal_id` under `limit`, or RESOURCE_EXHAUSTED naming
  // the limit, with the wait before a retry can succeed as the status's
  // kRetryAfterPayload (common/status.h).
  absl::StatusOr<CallPermit> Acquire(const std::string& principal_id, const CallerLimit& limit,
                                     absl::Time now);

 private:
  struct State;
  State* StateOf(const std::string& principal_id);

  absl::Mutex mu_;
  // Principals come from the keys file only (verified), so this stays small.
  absl::flat_hash_map<std::string, std::unique_ptr<State>> states_ ABSL_GUARDED_BY(mu_);
};

}  // namespace funnel::gateway
