#pragma once

// Scoring calibrated from closed-loop outcomes, pure: no I/O, no clock.
//
// The model is an L2-regularised logistic regression of "won" on the features a
// scoring policy already prices: each touchpoint type's count decayed to the
// handoff (the engagement of one point per touch, scoring.h's decay), and one-hot
// industry, region and company-size range. It is the model whose linear predictor
// has exactly a policy's shape (score = sum of points x decayed counts + fit
// points), so its weights become points by one scale, with no approximation but
// one: points cannot be negative, so a feature that predicts losing gets 0.
// Fitted by Newton's method from zero: the same outcomes give the same proposal.
//
// The outcomes are split by lead (a fifth held out, by a hash of the lead id, so a
// lead handed off twice stays on one side); both the current and the proposed
// policy are evaluated on the held-out part.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "funnel/marketing/v1/marketing_service.pb.h"

namespace funnel::marketing {

// One handoff whose deal was won, or lost or rejected, as it stood when marketing
// handed it off.
struct CalibrationOutcome {
  int64_t lead_id = 0;
  // By TouchpointType number: the touches of that type before the handoff, each
  // decayed by half per half-life of the policy in force from its time to the
  // handoff's.
  std::vector<double> decayed_touches;
  std::string industry;
  std::string region;
  int32_t company_size = 0;
  bool won = false;
};

// A logistic regression: P(won) = 1 / (1 + exp(-(intercept + weights . x))).
struct LogisticModel {
  double intercept = 0;
  std::vector<double> weights;
};

// Fits `rows` (each the same length) to `won` by Newton's method with an L2
// penalty `l2` on the weights (not the intercept). Deterministic.
LogisticModel FitLogisticRegression(const std::vector<std::vector<double>>& rows,
                                    const std::vector<bool>& won, double l2);

// The area under the ROC curve of `scores` for `won` (ties count half); 0.5 when
// either class is empty.
double Auc(const std::vector<double>& scores, const std::vector<bool>& won);

// Whether an outcome of this lead is held out for evaluation (a fifth of leads).
bool HeldOut(int64_t lead_id);

// Outcomes needed of each class (won; lost or rejected) to learn from, and to
// evaluate on.
inline constexpr int kMinTrainingPerClass = 20;
inline constexpr int kMinHeldOutPerClass = 5;

// Learns a policy from `outcomes` (decayed with `current`'s half-life) and
// evaluates it and `current` on the held-out ones. FAILED_PRECONDITION
// (TOO_FEW_OUTCOMES) with fewer outcomes of a class than the minimums above.
// The proposal keeps `current`'s thresholds, half-life and etag.
absl::StatusOr<v1::CalibrateScoringPolicyResponse> CalibrateScoring(
    const v1::ScoringPolicy& current, const std::vector<CalibrationOutcome>& outcomes);

}  // namespace funnel::marketing
