#include "marketing_service/scoring.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace funnel::marketing {

using handoff::v1::Temperature;
using handoff::v1::TouchpointType;

v1::ScoringPolicy DefaultScoringPolicy() {
  v1::ScoringPolicy p;
  auto add = [&p](TouchpointType type, double points) {
    auto* w = p.add_touchpoint_points();
    w->set_type(type);
    w->set_points(points);
  };
  add(handoff::v1::TOUCHPOINT_TYPE_AD_IMPRESSION, 1);
  add(handoff::v1::TOUCHPOINT_TYPE_AD_CLICK, 5);
  add(handoff::v1::TOUCHPOINT_TYPE_EMAIL_OPEN, 2);
  add(handoff::v1::TOUCHPOINT_TYPE_EMAIL_CLICK, 5);
  add(handoff::v1::TOUCHPOINT_TYPE_WEB_VISIT, 3);
  add(handoff::v1::TOUCHPOINT_TYPE_CONTENT_DOWNLOAD, 10);
  add(handoff::v1::TOUCHPOINT_TYPE_EVENT_ATTENDED, 15);
  add(handoff::v1::TOUCHPOINT_TYPE_WEBINAR_ATTENDED, 15);
  add(handoff::v1::TOUCHPOINT_TYPE_FORM_SUBMIT, 10);
  add(handoff::v1::TOUCHPOINT_TYPE_DEMO_REQUEST, 40);
  add(handoff::v1::TOUCHPOINT_TYPE_REFERRAL, 20);
  add(handoff::v1::TOUCHPOINT_TYPE_REVIEW, 5);
  p.set_warm_threshold(20);
  p.set_hot_threshold(60);
  p.set_decay_half_life_days(30);
  return p;
}

absl::Status ValidateScoringPolicy(const v1::ScoringPolicy& p) {
  auto bad = [](absl::string_view field, absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
  };
  // Bounded as well as finite: scores are sums of points, and a point value near
  // DBL_MAX makes every sum infinite.
  auto finite_non_negative = [](double v) { return std::isfinite(v) && v >= 0 && v <= kMaxPoints; };
  const std::string at_most = absl::StrCat("must be between 0 and ", kMaxPoints);
  if (!(std::isfinite(p.warm_threshold()) && p.warm_threshold() > 0 &&
        p.warm_threshold() <= kMaxPoints)) {
    return bad("policy.warm_threshold", absl::StrCat("must be positive and at most ", kMaxPoints));
  }
  if (!(std::isfinite(p.hot_threshold()) && p.hot_threshold() > p.warm_threshold() &&
        p.hot_threshold() <= kMaxPoints)) {
    return bad("policy.hot_threshold",
               absl::StrCat("must be greater than warm_threshold and at most ", kMaxPoints));
  }
  if (!(std::isfinite(p.decay_half_life_days()) && p.decay_half_life_days() >= 0 &&
        p.decay_half_life_days() <= kMaxHalfLifeDays)) {
    return bad("policy.decay_half_life_days",
               absl::StrCat("must be between 0 and ", kMaxHalfLifeDays));
  }
  std::set<int> seen;
  for (const auto& w : p.touchpoint_points()) {
    if (w.type() == handoff::v1::TOUCHPOINT_TYPE_UNSPECIFIED ||
        !handoff::v1::TouchpointType_IsValid(w.type())) {
      return bad("policy.touchpoint_points.type", "must be a touchpoint type");
    }
    if (!seen.insert(w.type()).second) {
      return bad("policy.touchpoint_points",
                 absl::StrCat("type ", TouchpointType_Name(w.type()), " listed twice"));
    }
    if (!finite_non_negative(w.points())) return bad("policy.touchpoint_points.points", at_most);
  }
  for (const auto* rules : {&p.industry_points(), &p.region_points()}) {
    for (const auto& r : *rules) {
      if (r.value().empty()) return bad("policy.fit.value", "required");
      if (!finite_non_negative(r.points())) return bad("policy.fit.points", at_most);
    }
  }
  for (const auto& r : p.company_size_points()) {
    if (r.min_size() < 0 || (r.max_size() != 0 && r.max_size() < r.min_size())) {
      return bad("policy.company_size_points", "min_size must be >= 0 and <= max_size");
    }
    if (!finite_non_negative(r.points())) return bad("policy.company_size_points.points", at_most);
  }
  return absl::OkStatus();
}

double DecayedEngagement(const v1::ScoringPolicy& policy, const Engagement& e, absl::Time now) {
  if (policy.decay_half_life_days() <= 0 || now <= e.as_of || e.as_of == absl::InfinitePast()) {
    return e.value;
  }
  const double days = absl::ToDoubleHours(now - e.as_of) / 24.0;
  return e.value * std::exp2(-days / policy.decay_half_life_days());
}

double TouchpointPoints(const v1::ScoringPolicy& policy, TouchpointType type) {
  for (const auto& w : policy.touchpoint_points()) {
    if (w.type() == type) return w.points();
  }
  return 0;
}

Engagement AddTouch(const v1::ScoringPolicy& policy, const Engagement& e, TouchpointType type,
                    absl::Time when) {
  // A touch older than the last one (imported history) adds its points decayed to
  // the current as_of instead of moving as_of backwards.
  if (e.as_of != absl::InfinitePast() && when < e.as_of) {
    Engagement past{TouchpointPoints(policy, type), when};
    return {e.value + DecayedEngagement(policy, past, e.as_of), e.as_of};
  }
  return {DecayedEngagement(policy, e, when) + TouchpointPoints(policy, type), when};
}

Engagement CombineEngagement(const v1::ScoringPolicy& policy, const Engagement& a,
                             const Engagement& b) {
  const absl::Time as_of = std::max(a.as_of, b.as_of);
  return {DecayedEngagement(policy, a, as_of) + DecayedEngagement(policy, b, as_of), as_of};
}

double FitPoints(const v1::ScoringPolicy& policy, const handoff::v1::Contact& contact) {
  double points = 0;
  for (const auto& r : policy.industry_points()) {
    if (!contact.industry().empty() && absl::EqualsIgnoreCase(r.value(), contact.industry())) {
      points += r.points();
      break;
    }
  }
  for (const auto& r : policy.region_points()) {
    if (!contact.region().empty() && absl::EqualsIgnoreCase(r.value(), contact.region())) {
      points += r.points();
      break;
    }
  }
  if (contact.company_size() > 0) {
    for (const auto& r : policy.company_size_points()) {
      if (contact.company_size() >= r.min_size() &&
          (r.max_size() == 0 || contact.company_size() <= r.max_size())) {
        points += r.points();
        break;
      }
    }
  }
  return points;
}

double LeadScore(const v1::ScoringPolicy& policy, const Engagement& engagement,
                 const handoff::v1::Contact& contact, absl::Time now) {
  const double raw = DecayedEngagement(policy, engagement, now) + FitPoints(policy, contact);
  return std::round(raw * 100) / 100;
}

Temperature TemperatureFor(const v1::ScoringPolicy& policy, double score) {
  if (score >= policy.hot_threshold()) return handoff::v1::TEMPERATURE_HOT;
  if (score >= policy.warm_threshold()) return handoff::v1::TEMPERATURE_WARM;
  return handoff::v1::TEMPERATURE_COLD;
}

}  // namespace funnel::marketing
