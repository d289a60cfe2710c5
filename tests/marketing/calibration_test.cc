#include "marketing_service/calibration.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/status.h"
#include "common/testing/status_matchers.h"
#include "marketing_service/scoring.h"

namespace funnel::marketing {
namespace {

using ::funnel::testing::StatusIs;
using handoff::v1::TOUCHPOINT_TYPE_DEMO_REQUEST;
using handoff::v1::TOUCHPOINT_TYPE_EMAIL_OPEN;
using handoff::v1::TOUCHPOINT_TYPE_WEB_VISIT;
using ::testing::HasSubstr;

// The weights outcomes are drawn with: email opens and software companies win
// deals, demo requests a little, web visits not at all. The default policy prices
// these the other way round (a demo request 40 points, an email open 2, a web
// visit 3, industry nothing), so it ranks these outcomes badly.
struct Planted {
  double intercept = -3.0;
  double email_open = 1.0;
  double demo_request = 0.3;
  double web_visit = 0.0;
  double software = 1.0;
  double emea = 0.5;
  double enterprise = 0.7;  // 1000 employees and more
};

double Sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

std::vector<CalibrationOutcome> Draw(int n, const Planted& w, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> touches(0, 4);
  std::uniform_int_distribution<int> pick(0, 2);
  std::uniform_int_distribution<int> size(1, 5000);
  std::bernoulli_distribution coin(0.5);
  std::uniform_real_distribution<double> unit(0, 1);
  const char* industries[] = {"software", "retail", "health"};
  std::vector<CalibrationOutcome> out;
  for (int i = 0; i < n; ++i) {
    CalibrationOutcome o;
    o.lead_id = i + 1;
    o.decayed_touches.assign(handoff::v1::TouchpointType_MAX + 1, 0);
    o.decayed_touches[TOUCHPOINT_TYPE_EMAIL_OPEN] = touches(rng);
    o.decayed_touches[TOUCHPOINT_TYPE_DEMO_REQUEST] = touches(rng) / 2;
    o.decayed_touches[TOUCHPOINT_TYPE_WEB_VISIT] = touches(rng) * 2;
    o.industry = industries[pick(rng)];
    o.region = coin(rng) ? "EMEA" : "AMER";
    o.company_size = size(rng);
    const double logit =
        w.intercept + w.email_open * o.decayed_touches[TOUCHPOINT_TYPE_EMAIL_OPEN] +
        w.demo_request * o.decayed_touches[TOUCHPOINT_TYPE_DEMO_REQUEST] +
        w.web_visit * o.decayed_touches[TOUCHPOINT_TYPE_WEB_VISIT] +
        (o.industry == "software" ? w.software : 0) + (o.region == "EMEA" ? w.emea : 0) +
        (o.company_size >= 1000 ? w.enterprise : 0);
    o.won = unit(rng) < Sigmoid(logit);
    out.push_back(o);
  }
  return out;
}

double IndustryPoints(const v1::ScoringPolicy& p, const std::string& value) {
  for (const auto& r : p.industry_points()) {
    if (r.value() == value) return r.points();
  }
  return 0;
}

TEST(CalibrationTest, LogisticRegressionRecoversPlantedWeights) {
  const Planted w;
  std::vector<std::vector<double>> rows;
  std::vector<bool> won;
  for (const CalibrationOutcome& o : Draw(20000, w, 7)) {
    rows.push_back({o.decayed_touches[TOUCHPOINT_TYPE_EMAIL_OPEN],
                    o.decayed_touches[TOUCHPOINT_TYPE_DEMO_REQUEST],
                    o.decayed_touches[TOUCHPOINT_TYPE_WEB_VISIT],
                    o.industry == "software" ? 1.0 : 0, o.region == "EMEA" ? 1.0 : 0,
                    o.company_size >= 1000 ? 1.0 : 0});
    won.push_back(o.won);
  }
  const LogisticModel m = FitLogisticRegression(rows, won, 1.0);
  ASSERT_EQ(m.weights.size(), 6u);
  // 20,000 outcomes: each weight's standard error is about 0.03-0.06.
  constexpr double kTolerance = 0.15;
  EXPECT_NEAR(m.intercept, w.intercept, 0.25);
  EXPECT_NEAR(m.weights[0], w.email_open, kTolerance);
  EXPECT_NEAR(m.weights[1], w.demo_request, kTolerance);
  EXPECT_NEAR(m.weights[2], w.web_visit, kTolerance);
  EXPECT_NEAR(m.weights[3], w.software, kTolerance);
  EXPECT_NEAR(m.weights[4], w.emea, kTolerance);
  EXPECT_NEAR(m.weights[5], w.enterprise, kTolerance);
}

TEST(CalibrationTest, TheProposalPricesWhatWinsAndBeatsTheDefaultOnHeldOutOutcomes) {
  const Planted w;
  v1::ScoringPolicy current = DefaultScoringPolicy();
  current.set_etag("7");
  auto result = CalibrateScoring(current, Draw(20000, w, 11));
  ASSERT_TRUE(result.ok()) << result.status();
  const v1::ScoringPolicy& p = result->proposed_policy();

  // A policy UpdateScoringPolicy takes as it is: valid, the current etag, the
  // current thresholds and half-life.
  EXPECT_TRUE(ValidateScoringPolicy(p).ok()) << ValidateScoringPolicy(p);
  EXPECT_EQ(p.etag(), "7");
  EXPECT_EQ(p.hot_threshold(), current.hot_threshold());
  EXPECT_EQ(p.warm_threshold(), current.warm_threshold());
  EXPECT_EQ(p.decay_half_life_days(), current.decay_half_life_days());

  // Points in the planted proportions: the model's weights times one scale.
  const double email = TouchpointPoints(p, TOUCHPOINT_TYPE_EMAIL_OPEN);
  ASSERT_GT(email, 0);
  EXPECT_NEAR(TouchpointPoints(p, TOUCHPOINT_TYPE_DEMO_REQUEST) / email,
              w.demo_request / w.email_open, 0.15);
  EXPECT_NEAR(TouchpointPoints(p, TOUCHPOINT_TYPE_WEB_VISIT) / email, 0, 0.1);
  EXPECT_NEAR(IndustryPoints(p, "software") / email, w.software / w.email_open, 0.2);
  // The scale puts the hot threshold where a lead is as likely won as not:
  // intercept -3 is three email opens' worth of points.
  EXPECT_NEAR(email, current.hot_threshold() * w.email_open / -w.intercept,
              current.hot_threshold() * 0.1);

  EXPECT_EQ(result->training_outcomes() + result->held_out_outcomes(), 20000);
  EXPECT_NEAR(result->held_out_outcomes(), 4000, 300);
  EXPECT_GT(result->proposed().auc(), result->current().auc() + 0.05)
      << "proposed " << result->proposed().auc() << ", current " << result->current().auc();
  EXPECT_GT(result->proposed().top_decile_lift(), result->current().top_decile_lift());

  // Calibration: ten deciles of the held-out outcomes, the model's probability
  // close to what happened, and more wins the higher the score.
  ASSERT_EQ(result->calibration_size(), 10);
  int64_t outcomes = 0;
  for (const v1::ScoreDecile& d : result->calibration()) {
    outcomes += d.outcomes();
    const double observed = static_cast<double>(d.won()) / d.outcomes();
    EXPECT_NEAR(d.predicted_won_rate(), observed, 0.08) << "decile " << d.decile();
    EXPECT_LE(d.min_score(), d.max_score());
  }
  EXPECT_EQ(outcomes, result->held_out_outcomes());
  const auto& low = result->calibration(0);
  const auto& high = result->calibration(9);
  EXPECT_GT(static_cast<double>(high.won()) / high.outcomes(),
            3 * static_cast<double>(low.won()) / low.outcomes());
}

TEST(CalibrationTest, TheSameOutcomesGiveTheSameProposal) {
  const std::vector<CalibrationOutcome> outcomes = Draw(3000, Planted{}, 3);
  auto a = CalibrateScoring(DefaultScoringPolicy(), outcomes);
  auto b = CalibrateScoring(DefaultScoringPolicy(), outcomes);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->SerializeAsString(), b->SerializeAsString());
}

TEST(CalibrationTest, TooFewOutcomesOfAClassAreRefusedWithTheReason) {
  EXPECT_THAT(CalibrateScoring(DefaultScoringPolicy(), {}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("too few outcomes")));
  // Plenty of outcomes, but every one lost: nothing tells a winner apart.
  std::vector<CalibrationOutcome> all_lost = Draw(2000, Planted{}, 5);
  for (CalibrationOutcome& o : all_lost) o.won = false;
  absl::Status s = CalibrateScoring(DefaultScoringPolicy(), all_lost).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("0 won")));
  EXPECT_EQ(common::ReasonOf(s), "TOO_FEW_OUTCOMES");
}

TEST(CalibrationTest, AucCountsPairsRankedRightAndTiesAsHalf) {
  EXPECT_DOUBLE_EQ(Auc({1, 2, 3, 4}, {false, false, true, true}), 1.0);
  EXPECT_DOUBLE_EQ(Auc({1, 2, 3, 4}, {true, true, false, false}), 0.0);
  EXPECT_DOUBLE_EQ(Auc({5, 5, 5, 5}, {true, false, true, false}), 0.5);
  EXPECT_DOUBLE_EQ(Auc({1, 3, 2, 4}, {false, false, true, true}), 0.75);
  EXPECT_DOUBLE_EQ(Auc({1, 2}, {true, true}), 0.5);
}

TEST(CalibrationTest, AFifthOfLeadsIsHeldOutWhateverTheirIdsStepBy) {
  for (int step : {1, 3}) {
    int held = 0;
    for (int i = 1; i <= 10000; ++i) held += HeldOut(int64_t{i} * step) ? 1 : 0;
    EXPECT_NEAR(held, 2000, 150) << "step " << step;
  }
}

}  // namespace
}  // namespace funnel::marketing
