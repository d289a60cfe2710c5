#pragma once

// Group commit for blocking handlers: calls that arrive while a batch is being
// written queue up, and the next one to find no batch running becomes the leader
// and writes everything queued so far in one go (one transaction, one commit),
// then hands each caller its own result. Under no load a batch is one call and
// nothing waits; under load the database does one commit for many calls instead
// of one each.
//
// Example:
//   GroupCommit<Request, absl::StatusOr<Response>> batcher(
//       [&](const std::vector<Request>& batch) { return store.WriteMany(batch); }, 64);
//   absl::StatusOr<Response> r = batcher.Submit(request);  // from any thread

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/call_deadline.h"

namespace funnel::common {

template <typename Item, typename Result>
class GroupCommit final {
 public:
  // `write` gets the batch in arrival order and must return one result per item.
  GroupCommit(std::function<std::vector<Result>(const std::vector<Item>&)> write, size_t max_batch)
      : write_(std::move(write)), max_batch_(max_batch == 0 ? 1 : max_batch) {}

  // Blocks until `item` was written (by this thread or by another leader).
  Result Submit(Item item) {
    auto slot = std::make_shared<Slot>();
    slot->item = std::move(item);
    absl::MutexLock lock(&mu_);
    queue_.push_back(slot);
    Waiter waiter{slot.get(), &leading_};
    for (;;) {
      mu_.Await(absl::Condition(&Waiter::Ready, &waiter));
      if (slot->result.has_value()) return *std::move(slot->result);
      Lead();
    }
  }

 private:
  struct Slot {
    Item item;
    std::optional<Result> result;
  };

  // What one caller waits for: its result, or no leader (so it may lead).
  struct Waiter {
    Slot* slot;
    const bool* leading;
    static bool Ready(Waiter* w) { return w->slot->result.has_value() || !*w->leading; }
  };

  // Takes the queue's head as a batch, writes it without the lock, hands out results.
  void Lead() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    leading_ = true;
    std::vector<std::shared_ptr<Slot>> batch;
    while (!queue_.empty() && batch.size() < max_batch_) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    std::vector<Item> items;
    items.reserve(batch.size());
    for (auto& slot : batch) items.push_back(slot->item);
    mu_.Unlock();
    // The batch is everyone's: the leader's own call deadline must not bound it.
    std::vector<Result> results;
    {
      const CallDeadlineScope no_deadline(absl::InfiniteFuture());
      results = write_(items);
    }
    mu_.Lock();
    for (size_t i = 0; i < batch.size(); ++i) batch[i]->result = std::move(results.at(i));
    leading_ = false;
  }

  const std::function<std::vector<Result>(const std::vector<Item>&)> write_;
  const size_t max_batch_;
  absl::Mutex mu_;
  std::deque<std::shared_ptr<Slot>> queue_ ABSL_GUARDED_BY(mu_);
  bool leading_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace funnel::common
