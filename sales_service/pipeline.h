#pragma once

// The sales pipeline's rules, pure: stages and their default win probabilities,
// which moves are allowed, and the arithmetic of forecasts, attainment and win rate.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "funnel/sales/v1/sales_service.pb.h"

namespace funnel::sales {

// 10, 20, 40, 60, 80, 100, 0 for PROSPECTING .. CLOSED_LOST.
int DefaultProbability(v1::Stage stage);
bool IsOpen(v1::Stage stage);
bool IsClosed(v1::Stage stage);

// The probability an opportunity carries: its override when set, else the
// stage's default; closed stages are always 100 (won) or 0 (lost).
int EffectiveProbability(v1::Stage stage, std::optional<int> override_percent);

// Rules of MoveOpportunityStage:
//   open -> another open stage (forward or back): OK;
//   open -> closed: FAILED_PRECONDITION (closing goes through CloseOpportunity);
//   closed -> open: reopening, PERMISSION_DENIED unless `is_manager`;
//   closed -> closed, or to UNSPECIFIED: FAILED_PRECONDITION / INVALID_ARGUMENT.
// Moving to the current stage is OK (nothing to record).
absl::Status CheckStageMove(v1::Stage from, v1::Stage to, bool is_manager);

// Rules of CloseOpportunity: only open opportunities close.
absl::Status CheckClose(v1::Stage from);

// amount x probability / 100, rounded to the nearest minor unit.
int64_t Weighted(int64_t amount_minor, int probability_percent);

// won / target x 100; 0 without a target.
double AttainmentPercent(int64_t won_minor, int64_t target_minor);

// won / (won + lost); 0 when nothing closed.
double WinRate(int64_t won, int64_t lost);

// A quarter "YYYY-QN" as [start, end) in UTC. INVALID_ARGUMENT naming `field`.
struct Quarter {
  absl::Time start;
  absl::Time end;
};
absl::StatusOr<Quarter> ParseQuarter(const std::string& text, absl::string_view field);

}  // namespace funnel::sales

namespace funnel::sales {

// The row rule: a SALES_REP changes only what they own; a SALES_MANAGER what they
// or their team (reps whose manager they are) own; REVENUE_OPS nothing; ADMIN and
// internal callers (no forwarded role) anything. PERMISSION_DENIED naming `what`.
struct Caller {
  std::string role;
  int64_t rep_id = 0;
};
absl::Status CheckCanChange(const Caller& caller, int64_t owner_rep_id, int64_t owner_manager_id,
                            absl::string_view what);
// Managers (and ADMIN/internal callers) may reopen and reassign.
bool IsManagerLike(const Caller& caller);

// Who may create `rep`: ADMIN (and internal callers) anyone; a SALES_MANAGER only a
// REP in their own team (manager_rep_id their own); nobody else. PERMISSION_DENIED
// saying which.
absl::Status CheckCanCreateRep(const Caller& caller, const v1::Rep& rep);

// Who may see a rep's own figures (performance, quota attainment): the rep, their
// manager, and the roles that read everything (REVENUE_OPS, ADMIN, internal).
// PERMISSION_DENIED otherwise.
absl::Status CheckCanSeeRep(const Caller& caller, int64_t rep_id, int64_t manager_rep_id);

// One opportunity as the reports see it.
struct OpportunityFacts {
  v1::Stage stage;
  std::optional<int> probability_override;
  std::string currency;
  int64_t amount_minor;
  v1::Source source;
};

// Per stage counts and totals, forecast categories (commit = NEGOTIATION, best case
// = PROPOSAL and up, pipeline = every open one), win rate, and marketing- vs
// sales-sourced open pipeline; amounts per currency, never summed across
// currencies. `sla` is left for the caller.
v1::PipelineReport AggregatePipeline(const std::vector<OpportunityFacts>& opportunities);

}  // namespace funnel::sales
