#include "bench/histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace funnel::bench {

LatencyHistogram::LatencyHistogram() : min_(std::numeric_limits<int64_t>::max()) {
  for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
}

// Values below 2^kSubBits land one per bucket; above, the bucket is (power of two,
// top kSubBits bits below the leading one).
int LatencyHistogram::IndexOf(uint64_t value) {
  if (value < kSubBuckets) return static_cast<int>(value);
  const int msb = 63 - __builtin_clzll(value);
  const int shift = msb - kSubBits;
  const int sub = static_cast<int>((value >> shift) & (kSubBuckets - 1));
  return (shift + 1) * kSubBuckets + sub;
}

uint64_t LatencyHistogram::UpperEdgeOf(int index) {
  if (index < kSubBuckets) return static_cast<uint64_t>(index);
  const int shift = index / kSubBuckets - 1;
  const uint64_t sub = static_cast<uint64_t>(index % kSubBuckets);
  const uint64_t low = (uint64_t{kSubBuckets} + sub) << shift;
  return low + ((uint64_t{1} << shift) - 1);
}

void LatencyHistogram::Record(int64_t nanos) {
  const int64_t v = std::max<int64_t>(nanos, 0);
  counts_[IndexOf(static_cast<uint64_t>(v))].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  int64_t seen = min_.load(std::memory_order_relaxed);
  while (v < seen && !min_.compare_exchange_weak(seen, v, std::memory_order_relaxed)) {
  }
  seen = max_.load(std::memory_order_relaxed);
  while (v > seen && !max_.compare_exchange_weak(seen, v, std::memory_order_relaxed)) {
  }
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count() == 0) return;
  for (int i = 0; i < kBuckets; ++i) {
    counts_[i].fetch_add(other.counts_[i].load(std::memory_order_relaxed),
                         std::memory_order_relaxed);
  }
  count_.fetch_add(other.count(), std::memory_order_relaxed);
  min_.store(std::min(min_.load(), other.min()));
  max_.store(std::max(max_.load(), other.max()));
}

int64_t LatencyHistogram::min() const {
  return count() == 0 ? 0 : min_.load(std::memory_order_relaxed);
}
int64_t LatencyHistogram::max() const { return max_.load(std::memory_order_relaxed); }

int64_t LatencyHistogram::Percentile(double q) const {
  const int64_t total = count();
  if (total == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // Rank of the wanted value, 1-based: at least q of the values are at or below it.
  const int64_t rank =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(q * static_cast<double>(total) - 1e-9)));
  int64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i].load(std::memory_order_relaxed);
    if (seen >= rank) {
      return std::clamp(static_cast<int64_t>(UpperEdgeOf(i)), min(), max());
    }
  }
  return max();
}

}  // namespace funnel::bench
