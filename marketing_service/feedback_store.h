#pragma once

// What marketing learns back through the handoff contract: sales' decisions and deal
// outcomes (each event id applied once), and the receipt of a delivered handoff.

#include <cppconn/connection.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mysql/pool.h"
#include "funnel/handoff/v1/handoff.pb.h"
#include "handoff/outbox_relay.h"

namespace funnel::marketing {

class FeedbackStore final {
 public:
  explicit FeedbackStore(common::ConnectionPool* pool) : pool_(pool) {}

  // ACCEPTED: lead -> SALES_ACCEPTED. REJECTED: lead -> RECYCLED with the reason and
  // its score reset to the warm threshold, ready to be qualified again as a new
  // handoff. A repeat of the event id returns duplicate = true and changes nothing.
  absl::StatusOr<handoff::v1::ReportDecisionResponse> ApplyDecision(
      const handoff::v1::HandoffDecision& decision, absl::Time now);

  // The deal's latest outcome replaces the one held (lead_rules.h): WON: lead ->
  // CUSTOMER and the amount attributed to its campaigns (first touch, last touch,
  // linear over the touchpoints before the handoff), replacing any earlier credit.
  // LOST (with its reason) or REOPENED: the credit is retracted and the lead is back
  // at SALES_ACCEPTED. A lower revision than the one held is answered stale = true
  // and changes nothing. Once per event id.
  absl::StatusOr<handoff::v1::ReportOutcomeResponse> ApplyOutcome(
      const handoff::v1::DealOutcome& outcome, absl::Time now);

 private:
  common::ConnectionPool* const pool_;
};

// The relay's hook: when sales acknowledged a LeadHandoff, record its delivery and
// SLA deadline and move the lead MARKETING_QUALIFIED -> HANDED_OFF.
void OnEventDelivered(sql::Connection& conn, const handoff::RelayedEvent& event,
                      const std::string& response);

}  // namespace funnel::marketing
