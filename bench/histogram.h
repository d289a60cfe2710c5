#pragma once

// A latency histogram in the HDR style: log-linear buckets (every power of two split
// into 128 equal sub-buckets), so any recorded value comes back from a percentile
// within 1/128 (< 0.8%) of itself, from a nanosecond to hours, in fixed memory.
// Record() is lock-free and may be called from many threads at once.

#include <array>
#include <atomic>
#include <cstdint>

namespace funnel::bench {

class LatencyHistogram final {
 public:
  LatencyHistogram();

  // Adds one value (nanoseconds; negative values count as 0).
  void Record(int64_t nanos);
  // Adds every count of `other` (not thread-safe against Record on `other`).
  void Merge(const LatencyHistogram& other);

  int64_t count() const { return count_.load(std::memory_order_relaxed); }
  int64_t min() const;  // 0 when empty
  int64_t max() const;  // 0 when empty
  // The smallest recorded value v such that at least q (0..1) of all values are <= v,
  // to bucket precision (the upper edge of v's bucket, capped at max()); 0 when empty.
  int64_t Percentile(double q) const;

 private:
  static constexpr int kSubBits = 7;
  static constexpr int kSubBuckets = 1 << kSubBits;
  static constexpr int kBuckets = (64 - kSubBits) * kSubBuckets;

  static int IndexOf(uint64_t value);
  static uint64_t UpperEdgeOf(int index);

  std::array<std::atomic<int64_t>, kBuckets> counts_;
  std::atomic<int64_t> count_{0};
  std::atomic<int64_t> min_;
  std::atomic<int64_t> max_{0};
};

}  // namespace funnel::bench
