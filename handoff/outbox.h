#pragma once

// The transactional outbox both departments keep: a contract event is written in the
// same transaction as the change that causes it, and the relay (outbox_relay.h)
// delivers it later.

#include <cppconn/connection.h>

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "funnel/handoff/v1/types.pb.h"
#include "handoff/contract.h"

namespace funnel::handoff {

// Appends an event to the `outbox` table in the caller's transaction: `payload` is
// the bytes of the `kind` message.
// The event keeps the thread's current request id (the call that caused it), which
// the relay sends it with.
void InsertOutboxEvent(sql::Connection& conn, const std::string& event_id, int64_t lead_id,
                       EventKind kind, const std::string& payload, absl::Time now);

// True when this thread wrote an outbox event since the last call, and clears the
// mark. Stores ask it after a transaction so that only commits which gave the relay
// something to send wake it (an idle poll per write would double the database's work).
bool TakeOutboxWritten();

struct OutboxStats {
  int64_t pending = 0;
  double oldest_pending_age_seconds = 0;
  int64_t delivered = 0;
};

// Depth and age of the outbox, to spot a stuck relay.
OutboxStats ReadOutboxStats(sql::Connection& conn, absl::Time now);

// The contract's RelayStats message, as both services' GetRelayStats answer it.
inline v1::RelayStats ToRelayStatsProto(const OutboxStats& s) {
  v1::RelayStats proto;
  proto.set_pending(s.pending);
  proto.set_oldest_pending_age_seconds(s.oldest_pending_age_seconds);
  proto.set_delivered(s.delivered);
  return proto;
}

}  // namespace funnel::handoff
