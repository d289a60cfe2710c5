#include "marketing_service/calibration.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "marketing_service/scoring.h"

namespace funnel::marketing {
namespace {

using handoff::v1::TouchpointType;

// The L2 penalty: enough to keep a feature only winners (or only losers) have
// from growing without bound, little next to thousands of outcomes.
constexpr double kL2 = 1.0;
// An industry or region becomes a feature of its own from this many training
// outcomes on; rarer values are left at no fit points.
constexpr int kMinCategoryOutcomes = 10;
constexpr int kNewtonSteps = 100;
constexpr double kConverged = 1e-9;

double Sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

// Solves a x = b for a symmetric positive definite a (Cholesky); a and b are
// overwritten.
std::vector<double> SolveSpd(std::vector<std::vector<double>> a, std::vector<double> b) {
  const size_t n = b.size();
  for (size_t j = 0; j < n; ++j) {
    double d = a[j][j];
    for (size_t k = 0; k < j; ++k) d -= a[j][k] * a[j][k];
    a[j][j] = std::sqrt(std::max(d, 1e-12));
    for (size_t i = j + 1; i < n; ++i) {
      double s = a[i][j];
      for (size_t k = 0; k < j; ++k) s -= a[i][k] * a[j][k];
      a[i][j] = s / a[j][j];
    }
  }
  for (size_t i = 0; i < n; ++i) {  // L y = b
    for (size_t k = 0; k < i; ++k) b[i] -= a[i][k] * b[k];
    b[i] /= a[i][i];
  }
  for (size_t i = n; i-- > 0;) {  // L^T x = y
    for (size_t k = i + 1; k < n; ++k) b[i] -= a[k][i] * b[k];
    b[i] /= a[i][i];
  }
  return b;
}

// The features of a policy, in row order: every touchpoint type, then the
// industries, regions and company-size ranges that have fit points of their own.
struct FeatureSpace {
  int touch_types = 0;
  std::vector<std::string> industries;  // lower case
  std::vector<std::string> regions;     // lower case
  std::vector<v1::CompanySizeRule> sizes;

  size_t size() const { return touch_types + industries.size() + regions.size() + sizes.size(); }

  std::vector<double> Row(const CalibrationOutcome& o) const {
    std::vector<double> row(size(), 0);
    for (int t = 0; t < touch_types && t + 1 < static_cast<int>(o.decayed_touches.size()); ++t) {
      row[t] = o.decayed_touches[t + 1];
    }
    size_t at = touch_types;
    const std::string industry = absl::AsciiStrToLower(o.industry);
    const std::string region = absl::AsciiStrToLower(o.region);
    for (const std::string& v : industries) row[at++] = v == industry ? 1 : 0;
    for (const std::string& v : regions) row[at++] = v == region ? 1 : 0;
    bool sized = false;  // the first matching range counts, as in FitPoints
    for (const v1::CompanySizeRule& r : sizes) {
      const bool in = !sized && o.company_size > 0 && o.company_size >= r.min_size() &&
                      (r.max_size() == 0 || o.company_size <= r.max_size());
      sized = sized || in;
      row[at++] = in ? 1 : 0;
    }
    return row;
  }
};

std::vector<std::string> FrequentValues(const std::vector<const CalibrationOutcome*>& outcomes,
                                        std::string CalibrationOutcome::*field) {
  std::map<std::string, int> counts;
  for (const CalibrationOutcome* o : outcomes) {
    if (!(o->*field).empty()) ++counts[absl::AsciiStrToLower(o->*field)];
  }
  std::vector<std::string> values;
  for (const auto& [value, n] : counts) {
    if (n >= kMinCategoryOutcomes) values.push_back(value);
  }
  return values;
}

FeatureSpace SpaceFor(const v1::ScoringPolicy& current,
                      const std::vector<const CalibrationOutcome*>& training) {
  FeatureSpace space;
  space.touch_types = handoff::v1::TouchpointType_MAX;
  space.industries = FrequentValues(training, &CalibrationOutcome::industry);
  space.regions = FrequentValues(training, &CalibrationOutcome::region);
  // The current policy's size ranges, so a proposal reads against it; without any,
  // the usual small / mid-market / large / enterprise cut.
  space.sizes.assign(current.company_size_points().begin(), current.company_size_points().end());
  if (space.sizes.empty()) {
    for (auto [lo, hi] : {std::pair{1, 49}, {50, 249}, {250, 999}, {1000, 0}}) {
      v1::CompanySizeRule& r = space.sizes.emplace_back();
      r.set_min_size(lo);
      r.set_max_size(hi);
    }
  }
  return space;
}

// A group of one-hot features (the industries, the regions, the size ranges) that
// every training outcome has one of is collinear with the intercept: the fit
// identifies only the differences within it. Points cannot be negative, so the
// group's least winning value is made its zero and the intercept takes the rest;
// every outcome's predictor stays as it was. (A group some outcomes have none of
// is measured against those, whose weight is 0 already.)
void RebaseCompleteGroups(const FeatureSpace& space, const std::vector<std::vector<double>>& rows,
                          LogisticModel& model) {
  size_t begin = space.touch_types;
  for (size_t size : {space.industries.size(), space.regions.size(), space.sizes.size()}) {
    const size_t end = begin + size;
    const bool complete =
        size > 0 && std::all_of(rows.begin(), rows.end(), [&](const auto& x) {
          return std::any_of(x.begin() + begin, x.begin() + end, [](double v) { return v != 0; });
        });
    if (complete) {
      const double least =
          *std::min_element(model.weights.begin() + begin, model.weights.begin() + end);
      for (size_t j = begin; j < end; ++j) model.weights[j] -= least;
      model.intercept += least;
    }
    begin = end;
  }
}

double Points(double weight, double scale) {
  const double points = std::clamp(weight * scale, 0.0, kMaxPoints);
  return std::round(points * 100) / 100;
}

// `model`'s weights as points of a policy shaped like `current`.
v1::ScoringPolicy ProposePolicy(const v1::ScoringPolicy& current, const FeatureSpace& space,
                                const LogisticModel& model, double scale) {
  v1::ScoringPolicy p;
  p.set_warm_threshold(current.warm_threshold());
  p.set_hot_threshold(current.hot_threshold());
  p.set_decay_half_life_days(current.decay_half_life_days());
  p.set_etag(current.etag());
  size_t at = 0;
  for (int t = 1; t <= space.touch_types; ++t) {
    v1::TouchpointWeight* w = p.add_touchpoint_points();
    w->set_type(static_cast<TouchpointType>(t));
    w->set_points(Points(model.weights[at++], scale));
  }
  auto fit = [&](const std::vector<std::string>& values,
                 google::protobuf::RepeatedPtrField<v1::FitRule>* rules) {
    for (const std::string& v : values) {
      const double points = Points(model.weights[at++], scale);
      if (points <= 0) continue;
      v1::FitRule* r = rules->Add();
      r->set_value(v);
      r->set_points(points);
    }
  };
  fit(space.industries, p.mutable_industry_points());
  fit(space.regions, p.mutable_region_points());
  for (const v1::CompanySizeRule& range : space.sizes) {
    v1::CompanySizeRule* r = p.add_company_size_points();
    *r = range;
    r->set_points(Points(model.weights[at++], scale));
  }
  return p;
}

// A policy's score of an outcome at its handoff: decayed engagement plus fit.
double ScoreOf(const v1::ScoringPolicy& policy, const CalibrationOutcome& o) {
  double score = 0;
  for (size_t t = 1; t < o.decayed_touches.size(); ++t) {
    score += TouchpointPoints(policy, static_cast<TouchpointType>(t)) * o.decayed_touches[t];
  }
  handoff::v1::Contact contact;
  contact.set_industry(o.industry);
  contact.set_region(o.region);
  contact.set_company_size(o.company_size);
  return score + FitPoints(policy, contact);
}

// Held-out outcomes in ascending order of `scores`, ties by lead id (a stable
// order for the deciles).
std::vector<size_t> Ascending(const std::vector<double>& scores,
                              const std::vector<const CalibrationOutcome*>& outcomes) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (scores[a] != scores[b]) return scores[a] < scores[b];
    return outcomes[a]->lead_id < outcomes[b]->lead_id;
  });
  return order;
}

// `order`: the outcomes in ascending order of `scores` (Ascending).
v1::PolicyEvaluation Evaluate(const std::vector<double>& scores, const std::vector<bool>& won,
                              const std::vector<size_t>& order) {
  v1::PolicyEvaluation e;
  e.set_auc(Auc(scores, won));
  const size_t top = std::max<size_t>(1, order.size() / 10);
  const double all_won = std::count(won.begin(), won.end(), true);
  double top_won = 0;
  for (size_t i = order.size() - top; i < order.size(); ++i) top_won += won[order[i]] ? 1 : 0;
  const double rate = all_won / won.size();
  e.set_top_decile_lift(rate > 0 ? (top_won / top) / rate : 0);
  return e;
}

absl::Status TooFew(absl::string_view what, int64_t won, int64_t lost, int needed) {
  return common::WithReason(
      absl::FailedPreconditionError(absl::StrCat(
          "too few outcomes to calibrate from: ", what, " has ", won, " won and ", lost,
          " lost or rejected handoffs, and needs ", needed, " of each; widen the time window")),
      errors::v1::TOO_FEW_OUTCOMES);
}

}  // namespace

LogisticModel FitLogisticRegression(const std::vector<std::vector<double>>& rows,
                                    const std::vector<bool>& won, double l2) {
  const size_t d = rows.empty() ? 0 : rows.front().size();
  std::vector<double> beta(d + 1, 0);  // beta[0] is the intercept
  for (int step = 0; step < kNewtonSteps; ++step) {
    std::vector<double> gradient(d + 1, 0);
    std::vector<std::vector<double>> hessian(d + 1, std::vector<double>(d + 1, 0));
    for (size_t i = 0; i < rows.size(); ++i) {
      const std::vector<double>& x = rows[i];
      double eta = beta[0];
      for (size_t j = 0; j < d; ++j) eta += beta[j + 1] * x[j];
      const double p = Sigmoid(eta);
      const double residual = (won[i] ? 1.0 : 0.0) - p;
      const double w = std::max(p * (1 - p), 1e-12);
      gradient[0] += residual;
      hessian[0][0] += w;
      for (size_t j = 0; j < d; ++j) {
        if (x[j] == 0) continue;  // rows are mostly zeros (one-hots)
        gradient[j + 1] += residual * x[j];
        hessian[j + 1][0] += w * x[j];
        for (size_t k = 0; k <= j; ++k) hessian[j + 1][k + 1] += w * x[j] * x[k];
      }
    }
    for (size_t j = 1; j <= d; ++j) {
      gradient[j] -= l2 * beta[j];
      hessian[j][j] += l2;
    }
    for (size_t j = 0; j <= d; ++j) {  // the lower triangle was summed; mirror it
      for (size_t k = j + 1; k <= d; ++k) hessian[j][k] = hessian[k][j];
    }
    const std::vector<double> delta = SolveSpd(hessian, gradient);
    double largest = 0;
    for (size_t j = 0; j <= d; ++j) {
      beta[j] += delta[j];
      largest = std::max(largest, std::abs(delta[j]));
    }
    if (largest < kConverged) break;
  }
  LogisticModel model;
  model.intercept = beta[0];
  model.weights.assign(beta.begin() + 1, beta.end());
  return model;
}

double Auc(const std::vector<double>& scores, const std::vector<bool>& won) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Mann-Whitney: the sum of the won outcomes' ranks (ties share their mean rank).
  double won_rank_sum = 0;
  double positives = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
    const double mean_rank = (i + 1 + j) / 2.0;  // ranks i+1 .. j
    for (size_t k = i; k < j; ++k) {
      if (won[order[k]]) {
        won_rank_sum += mean_rank;
        ++positives;
      }
    }
    i = j;
  }
  const double negatives = scores.size() - positives;
  if (positives == 0 || negatives == 0) return 0.5;
  return (won_rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

bool HeldOut(int64_t lead_id) {
  // Fibonacci hashing: ids handed out in steps (a Galera cluster's) still split evenly.
  const uint64_t h = static_cast<uint64_t>(lead_id) * 11400714819323198485ull;
  return (h >> 32) % 5 == 0;
}

absl::StatusOr<v1::CalibrateScoringPolicyResponse> CalibrateScoring(
    const v1::ScoringPolicy& current, const std::vector<CalibrationOutcome>& outcomes) {
  std::vector<const CalibrationOutcome*> training, held_out;
  for (const CalibrationOutcome& o : outcomes)
    (HeldOut(o.lead_id) ? held_out : training).push_back(&o);
  auto count_won = [](const std::vector<const CalibrationOutcome*>& v) {
    return static_cast<int64_t>(std::count_if(v.begin(), v.end(), [](auto* o) { return o->won; }));
  };
  const int64_t training_won = count_won(training);
  const int64_t held_out_won = count_won(held_out);
  const int64_t training_lost = static_cast<int64_t>(training.size()) - training_won;
  const int64_t held_out_lost = static_cast<int64_t>(held_out.size()) - held_out_won;
  if (std::min(training_won, training_lost) < kMinTrainingPerClass) {
    return TooFew("the training part", training_won, training_lost, kMinTrainingPerClass);
  }
  if (std::min(held_out_won, held_out_lost) < kMinHeldOutPerClass) {
    return TooFew("the held-out part", held_out_won, held_out_lost, kMinHeldOutPerClass);
  }

  const FeatureSpace space = SpaceFor(current, training);
  std::vector<std::vector<double>> rows;
  std::vector<bool> won;
  for (const CalibrationOutcome* o : training) {
    rows.push_back(space.Row(*o));
    won.push_back(o->won);
  }
  LogisticModel model = FitLogisticRegression(rows, won, kL2);
  RebaseCompleteGroups(space, rows, model);

  // Points per unit of the linear predictor. Where the base rate is under one
  // half, the hot threshold sits where a lead is as likely won as not
  // (intercept + score / scale = 0); otherwise at the top tenth of training leads.
  double scale = 1;
  if (model.intercept < -1e-6) {
    scale = current.hot_threshold() / -model.intercept;
  } else {
    std::vector<double> lifts;
    for (const std::vector<double>& x : rows) {
      lifts.push_back(std::inner_product(x.begin(), x.end(), model.weights.begin(), 0.0));
    }
    std::sort(lifts.begin(), lifts.end());
    const double q90 = lifts[lifts.size() * 9 / 10];
    if (q90 > 1e-6) scale = current.hot_threshold() / q90;
  }

  v1::CalibrateScoringPolicyResponse response;
  *response.mutable_proposed_policy() = ProposePolicy(current, space, model, scale);
  const v1::ScoringPolicy& proposed = response.proposed_policy();

  std::vector<double> current_scores, proposed_scores;
  std::vector<bool> held_won;
  for (const CalibrationOutcome* o : held_out) {
    current_scores.push_back(ScoreOf(current, *o));
    proposed_scores.push_back(ScoreOf(proposed, *o));
    held_won.push_back(o->won);
  }
  // The proposal's order serves its evaluation and its deciles alike.
  const std::vector<size_t> order = Ascending(proposed_scores, held_out);
  *response.mutable_current() =
      Evaluate(current_scores, held_won, Ascending(current_scores, held_out));
  *response.mutable_proposed() = Evaluate(proposed_scores, held_won, order);
  for (int decile = 0; decile < 10; ++decile) {
    const size_t begin = order.size() * decile / 10;
    const size_t end = order.size() * (decile + 1) / 10;
    if (begin == end) continue;
    v1::ScoreDecile* d = response.add_calibration();
    d->set_decile(decile + 1);
    d->set_min_score(proposed_scores[order[begin]]);
    d->set_max_score(proposed_scores[order[end - 1]]);
    d->set_outcomes(static_cast<int64_t>(end - begin));
    double predicted = 0;
    for (size_t i = begin; i < end; ++i) {
      if (held_won[order[i]]) d->set_won(d->won() + 1);
      predicted += Sigmoid(model.intercept + proposed_scores[order[i]] / scale);
    }
    d->set_predicted_won_rate(predicted / static_cast<double>(end - begin));
  }
  response.set_training_outcomes(static_cast<int64_t>(training.size()));
  response.set_held_out_outcomes(static_cast<int64_t>(held_out.size()));
  response.set_won_outcomes(training_won + held_out_won);
  return response;
}

}  // namespace funnel::marketing
