#pragma once

// Handoff routing as pure rules: which rule takes a handoff, which rep of its pool
// gets it, and what a valid rule is. The routing store loads rules, reps and the
// round-robin's state and asks these functions; nothing here reads a database.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/field_violations.h"
#include "funnel/handoff/v1/handoff.pb.h"
#include "funnel/sales/v1/sales_service.pb.h"

namespace funnel::sales {

// Rules tried in order, at most this many: each arriving handoff is matched
// against all of them.
inline constexpr int kMaxRoutingRules = 100;
inline constexpr int kMaxPoolMembers = 200;
inline constexpr int kMaxEscalations = 10;

// True when every criterion `match` sets holds for `lead` (an empty match matches
// everything). Text compares trimmed and case-insensitively.
bool Matches(const v1::RoutingMatch& match, const handoff::v1::LeadHandoff& lead);

// The index in `rules` (in the order they are tried) of the first that matches;
// nullopt when none does: the handoff goes to the default queue.
std::optional<size_t> FirstMatch(const std::vector<v1::RoutingRule>& rules,
                                 const handoff::v1::LeadHandoff& lead);

// Adds INVALID_ARGUMENT violations (fields named under `field`, e.g. "rule") for a
// rule that cannot route: no name, both or neither of team and pool, a repeated
// or non-positive rep, a weight outside 1..100, a size range upside down,
// escalation without a count or a count without escalation.
void CheckRule(const v1::RoutingRule& rule, const std::string& field,
               common::FieldViolations& violations);

// What routing knows of a rep when it picks.
struct RepLoad {
  bool active = true;
  bool away = false;
  int capacity = 0;     // 0: no limit
  int64_t pending = 0;  // assigned, undecided handoffs
};
// Whether routing may give the rep one more handoff.
bool CanTakeHandoff(const RepLoad& rep);

// One member of a pool as the round-robin sees it.
struct PoolSlot {
  int64_t rep_id = 0;
  int weight = 1;
  int64_t current = 0;  // the round-robin's state, kept between picks
  bool eligible = true;
};

// Smooth weighted round-robin (nginx's): every eligible slot's `current` grows by
// its weight, the largest (the lowest rep id on a tie) is picked and gives back
// the eligible slots' total weight. Over any run of picks with the same eligible
// slots, each gets its weight's share to within one pick, and picks interleave
// rather than bunch. An ineligible slot keeps its state, so a rep back from away
// or below capacity again rejoins without a burst. Returns the picked index, or
// nullopt when no slot is eligible (nothing changes then).
std::optional<size_t> PickSmoothWeighted(std::vector<PoolSlot>& slots);

// A pool member's weight as routing uses it (0 means 1).
int EffectiveWeight(const v1::PoolMember& member);

}  // namespace funnel::sales
