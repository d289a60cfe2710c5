#pragma once

// Received-event idempotency for a department's inbox: every contract event a
// receiver applies is recorded by its event id (the `inbox_events` table) in the
// same transaction as its effect, and a repeat is answered with the first answer,
// changing nothing. Relays may send an event again after any crash; this is what
// makes that harmless.

#include <cppconn/connection.h>

#include <optional>
#include <string>

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

}  // namespace funnel::handoff
