#pragma once

// A rep's quarter from their deals, pure (the store loads the rows; this adds them
// up): won revenue in the quota's currency with other currencies beside it, never
// summed across; attainment, win rate and average cycle; the open pipeline and its
// weighted forecast in the same currency.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "funnel/sales/v1/sales_service.pb.h"

namespace funnel::sales {

struct ClosedDeal {
  v1::Stage stage;  // CLOSED_WON or CLOSED_LOST
  std::string currency;
  int64_t amount_minor = 0;
  double cycle_seconds = 0;  // opened to closed
};

struct OpenDeal {
  v1::Stage stage;
  std::optional<int> probability_override;
  int64_t amount_minor = 0;
};

// Fills closed_won (in the quota's currency; without a quota, the first won deal's),
// other_currency_won, attainment_percent, win_rate and average_sales_cycle_days of
// `perf`, whose quota is already set if the rep has one. Returns the currency used.
std::string AddClosedDeals(const std::vector<ClosedDeal>& deals, v1::RepPerformance* perf);

// Fills open_pipeline and weighted_forecast from the open deals in `currency`.
void AddOpenPipeline(const std::vector<OpenDeal>& deals, const std::string& currency,
                     v1::RepPerformance* perf);

// One handoff given to the rep: when, its first answer (by anyone), and when it
// was next given to someone else.
struct AssignmentSpan {
  absl::Time assigned;
  std::optional<absl::Time> first_response;
  std::optional<absl::Time> reassigned;
};

// Fills handoffs_received, handoffs_answered and the average and median first
// response. An answer counts for the rep if it came before the handoff moved on;
// one that came before the rep got it counts with no wait.
void AddHandoffResponses(const std::vector<AssignmentSpan>& spans, v1::RepPerformance* perf);

}  // namespace funnel::sales
