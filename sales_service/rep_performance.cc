#include "sales_service/rep_performance.h"

#include <algorithm>

#include "common/median.h"
#include "handoff/validation.h"
#include "sales_service/pipeline.h"

namespace funnel::sales {

std::string AddClosedDeals(const std::vector<ClosedDeal>& deals, v1::RepPerformance* perf) {
  std::string currency = perf->quota().revenue_target().currency_code();
  int64_t won = 0, lost = 0, won_minor = 0;
  double cycle_days = 0;
  for (const ClosedDeal& deal : deals) {
    if (deal.stage == v1::STAGE_CLOSED_LOST) {
      ++lost;
      continue;
    }
    ++won;
    cycle_days += deal.cycle_seconds / 86400.0;
    if (currency.empty()) currency = deal.currency;  // no quota: the first currency seen
    if (deal.currency == currency) {
      won_minor = handoff::AddMinor(won_minor, deal.amount_minor);
      continue;
    }
    handoff::v1::Money* other = nullptr;
    for (auto& m : *perf->mutable_other_currency_won()) {
      if (m.currency_code() == deal.currency) other = &m;
    }
    if (other == nullptr) {
      other = perf->add_other_currency_won();
      other->set_currency_code(deal.currency);
    }
    other->set_amount_minor(handoff::AddMinor(other->amount_minor(), deal.amount_minor));
  }
  perf->mutable_closed_won()->set_currency_code(currency);
  perf->mutable_closed_won()->set_amount_minor(won_minor);
  perf->set_attainment_percent(
      AttainmentPercent(won_minor, perf->quota().revenue_target().amount_minor()));
  perf->set_win_rate(WinRate(won, lost));
  perf->set_average_sales_cycle_days(won == 0 ? 0 : cycle_days / won);
  return currency;
}

void AddOpenPipeline(const std::vector<OpenDeal>& deals, const std::string& currency,
                     v1::RepPerformance* perf) {
  int64_t open = 0, weighted = 0;
  for (const OpenDeal& deal : deals) {
    open = handoff::AddMinor(open, deal.amount_minor);
    weighted = handoff::AddMinor(
        weighted,
        Weighted(deal.amount_minor, EffectiveProbability(deal.stage, deal.probability_override)));
  }
  perf->mutable_open_pipeline()->set_currency_code(currency);
  perf->mutable_open_pipeline()->set_amount_minor(open);
  perf->mutable_weighted_forecast()->set_currency_code(currency);
  perf->mutable_weighted_forecast()->set_amount_minor(weighted);
}

void AddHandoffResponses(const std::vector<AssignmentSpan>& spans, v1::RepPerformance* perf) {
  std::vector<double> waits;
  for (const AssignmentSpan& s : spans) {
    if (!s.first_response) continue;
    if (s.reassigned && *s.reassigned < *s.first_response) continue;  // answered by the next
    waits.push_back(std::max(0.0, absl::ToDoubleSeconds(*s.first_response - s.assigned)));
  }
  perf->set_handoffs_received(static_cast<int64_t>(spans.size()));
  perf->set_handoffs_answered(static_cast<int64_t>(waits.size()));
  if (waits.empty()) return;
  double sum = 0;
  for (double w : waits) sum += w;
  perf->set_average_first_response_seconds(sum / static_cast<double>(waits.size()));
  perf->set_median_first_response_seconds(common::Median(std::move(waits)));
}

}  // namespace funnel::sales
