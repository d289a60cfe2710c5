#pragma once

// Received-event idempotency for a department's inbox: every contract event a
// receiver applies is recorded by its event id (the `inbox_events` table) in the
// same transaction as its effect, and a repeat is answered with the first answer,
// changing nothing. Relays may send an event again after any crash; this is what
// makes that harmless.

#include <cppconn/connection.h>

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/mysql/pool.h"
#include "common/status.h"
#include "handoff/contract.h"

namespace funnel::handoff {

// Claims `event_id` in the caller's transaction. nullopt when this is the first
// time (apply the event, then SaveReceivedResponse); the stored response bytes when
// it was applied before (a concurrent first receipt makes this wait for its commit).
std::optional<std::string> ClaimReceivedEvent(sql::Connection& conn, const std::string& event_id,
                                              EventKind kind);

// Stores the answer to a claimed event, for its repeats.
void SaveReceivedResponse(sql::Connection& conn, const std::string& event_id,
                          const std::string& response);

// Counts a received event into funnel_inbox_events_total (by kind, and whether it
// was new or a duplicate answered with the first answer). Call after the commit.
void CountReceived(EventKind kind, bool duplicate);

// Applies a received contract event once. `apply(conn, response)` makes the
// event's change and fills the answer, in one transaction that claims `event_id`;
// a repeat answers the first answer with duplicate = true and changes nothing.
// `Response` is the event's answer message (event_id, duplicate and the rest).
template <typename Response, typename Apply>
absl::StatusOr<Response> ApplyEventOnce(common::ConnectionPool& pool, absl::string_view what,
                                        const std::string& event_id, EventKind kind, Apply apply) {
  Response response;
  RETURN_IF_ERROR(pool.InTransaction(what, [&](sql::Connection& conn) -> absl::Status {
    response.Clear();
    if (std::optional<std::string> stored = ClaimReceivedEvent(conn, event_id, kind)) {
      response.ParseFromString(*stored);
      response.set_duplicate(true);
      return absl::OkStatus();
    }
    response.set_event_id(event_id);
    RETURN_IF_ERROR(apply(conn, response));
    SaveReceivedResponse(conn, event_id, response.SerializeAsString());
    return absl::OkStatus();
  }));
  CountReceived(kind, response.duplicate());
  return response;
}

}  // namespace funnel::handoff
