#pragma once

// Delivers a service's outbox events through the gateway, exactly once in effect:
//
//  - Events are claimed with a lease: a short transaction (FOR UPDATE SKIP LOCKED)
//    marks the batch as this relay's until its next_attempt_at and commits, so
//    several replicas of a service share the work and never send one event at
//    once, on one server as on a Galera cluster (where row locks are node-local
//    but a committed lease is certified cluster-wide). A lease that runs out (its
//    relay died) makes the event claimable again.
//  - Each event is sent as it was stored (the payload is the request message) to
//    the contract method its kind names, with a per-call deadline, outside any
//    transaction.
//  - Then a second transaction marks it delivered (or backs it off). A crash
//    between send and that commit means the event is sent again once the lease
//    runs out; receivers record every event id and answer a repeat with the first
//    result, changing nothing.
//  - Events of one lead go in order: an event waits while an earlier one of the
//    same lead is undelivered. A pass sends the oldest ready event of every lead
//    in the batch at once (concurrent calls), so a backlog drains at the gateway's
//    pace rather than one round trip at a time.
//  - Failures back off exponentially with jitter; stores call Wake() after they
//    commit an event, and polling is only the fallback.

#include <cppconn/connection.h>
#include <grpcpp/channel.h>
#include <grpcpp/generic/generic_stub.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/mysql/pool.h"
#include "handoff/contract.h"

namespace funnel::handoff {

struct RelayOptions {
  std::string name;                        // for logs
  std::shared_ptr<grpc::Channel> gateway;  // where contract calls go
  std::string bearer_key;                  // sent as "authorization: Bearer ..." if set
  absl::Duration call_deadline = absl::Seconds(5);
  absl::Duration poll_interval = absl::Seconds(1);
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(30);
  int batch_size = 64;  // also the most calls a pass has in flight
};

struct RelayedEvent {
  int64_t seq;
  std::string event_id;
  int64_t lead_id;
  std::string kind_name;          // as stored
  std::optional<EventKind> kind;  // nullopt: a kind this build does not know
  std::string request_id;         // sent as x-request-id, so the receiver logs it too
};

// Runs in the transaction that records the delivery once the receiver acknowledged `event`, with
// the receiver's response bytes (a service applies what the receipt says).
using DeliveredHook =
    std::function<void(sql::Connection&, const RelayedEvent&, const std::string& response)>;

// Backoff before attempt `attempts + 1`: initial x 2^(attempts-1), capped, with
// +-20% jitter drawn from `jitter` in [0, 1).
absl::Duration RetryBackoff(int attempts, absl::Duration initial, absl::Duration cap,
                            double jitter);

class OutboxRelay final {
 public:
  OutboxRelay(common::ConnectionPool* pool, RelayOptions options,
              DeliveredHook on_delivered = nullptr);
  ~OutboxRelay();  // Stop()

  void Start();
  void Stop();
  // Asks the relay to look at the outbox now (after a commit that wrote an event).
  void Wake();

  // One pass over the ready events; returns how many were delivered. The relay
  // thread calls it; tests may too (without Start()).
  absl::StatusOr<int> RunOnce();

 private:
  void Loop();
  // Sets the backlog gauges (events not yet delivered, age of the oldest).
  void ExportBacklog();
  // Leads (of `first_seq`: lead -> oldest claimed seq) with an older event pending.
  std::set<int64_t> LeadsWithEarlierPending(sql::Connection& conn,
                                            const std::map<int64_t, int64_t>& first_seq);
  void MarkDelivered(sql::Connection& conn, const std::vector<int64_t>& seqs);
  void MarkFailed(sql::Connection& conn, const RelayedEvent& event, int attempts,
                  const absl::Status& error);
  // How long a claimed event stays this relay's.
  absl::Duration LeaseDuration() const;

  common::ConnectionPool* const pool_;
  const RelayOptions options_;
  const DeliveredHook on_delivered_;
  grpc::GenericStub stub_;
  const std::string relay_id_;  // the lease holder's name: options.name and a UUID
  absl::Mutex mu_;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace funnel::handoff
