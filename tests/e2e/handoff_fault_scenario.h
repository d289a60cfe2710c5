#pragma once

// Exactly-once handoff under crashes, with the real three binaries and MariaDB:
//   phase 1: drive leads to qualification (every capture retried with its request_id
//            until it succeeds) while sales_service is SIGKILLed three times, the
//            gateway once, and marketing_service once while its relay is flushing a
//            backlog (so with high likelihood between an event's send and its commit);
//   phase 2: decide every handoff (accept, reject, win) while marketing_service is
//            SIGKILLed again;
//   phase 3: the contract's later events while both services are SIGKILLed once:
//            won deals reopened and closed again (won at a new amount, or lost), and
//            accepted leads unsubscribed or erased in marketing.
// Afterwards, reading both databases: every qualified lead is in sales exactly once,
// every decision and outcome is applied exactly once in marketing, no outbox event
// is left undelivered, and the counts match exactly.

#include <functional>

#include "tests/testing/stack.h"

namespace funnel::testing {

// More trouble, run on a thread of its own during phase 1 (crashing a database
// node, say); `captured()` is the fraction of the leads captured so far.
using Disturbance = std::function<void(const std::function<double()>& captured)>;

// Runs the three phases against `stack` with `leads` leads, then checks both
// databases (gtest assertions; a fatal one ends the scenario early).
void RunHandoffFaultScenario(FunnelStack& stack, int leads, const Disturbance& disturbance = {});

}  // namespace funnel::testing
