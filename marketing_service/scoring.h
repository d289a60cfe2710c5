#pragma once

// Lead scoring, pure: no I/O, no clock (times are passed in).
//
// score = engagement + fit
//   engagement: the sum of touchpoint points, each decaying by half every
//     decay_half_life_days of silence. Kept as (value, as_of) and advanced on each
//     touch, so scoring a touch needs only the previous pair.
//   fit: industry + region + company-size points from the policy.
// Temperature: COLD below warm_threshold, WARM from it, HOT from hot_threshold.

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "funnel/marketing/v1/marketing_service.pb.h"

namespace funnel::marketing {

// The policy a new database starts with.
v1::ScoringPolicy DefaultScoringPolicy();

// INVALID_ARGUMENT naming the field: thresholds positive with warm < hot, points
// and half-life finite and not negative, each touchpoint type listed once, size
// ranges ordered.
absl::Status ValidateScoringPolicy(const v1::ScoringPolicy& policy);

struct Engagement {
  double value = 0;
  absl::Time as_of = absl::InfinitePast();
};

// Engagement decayed from `e.as_of` to `now` (never grows; unchanged for a
// half-life of 0 or a `now` before as_of).
double DecayedEngagement(const v1::ScoringPolicy& policy, const Engagement& e, absl::Time now);

// Points the policy gives a touchpoint type.
double TouchpointPoints(const v1::ScoringPolicy& policy, handoff::v1::TouchpointType type);

// Engagement after a touch of `type` at `when`.
Engagement AddTouch(const v1::ScoringPolicy& policy, const Engagement& e,
                    handoff::v1::TouchpointType type, absl::Time when);

// The engagement of two leads merged into one: both decayed to the later as_of,
// summed (a person's touches count the same whichever record they were on).
Engagement CombineEngagement(const v1::ScoringPolicy& policy, const Engagement& a,
                             const Engagement& b);

// Fit points of a contact (industry and region matched case-insensitively).
double FitPoints(const v1::ScoringPolicy& policy, const handoff::v1::Contact& contact);

// The largest point value or threshold a policy may hold, and the longest decay
// half-life (ten years): what ValidateScoringPolicy accepts.
inline constexpr double kMaxPoints = 1'000'000;
inline constexpr double kMaxHalfLifeDays = 3650;

// A lead's score at `now`: decayed engagement plus fit, rounded to hundredths so
// that seconds of decay do not keep a lead a hair below a threshold it reached.
double LeadScore(const v1::ScoringPolicy& policy, const Engagement& engagement,
                 const handoff::v1::Contact& contact, absl::Time now);

handoff::v1::Temperature TemperatureFor(const v1::ScoringPolicy& policy, double score);

}  // namespace funnel::marketing
