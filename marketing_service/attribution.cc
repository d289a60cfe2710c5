#include "marketing_service/attribution.h"

#include <map>

namespace funnel::marketing {

std::vector<Credit> Attribute(int64_t amount_minor, int64_t first_campaign, int64_t last_campaign,
                              const std::vector<int64_t>& touch_campaigns) {
  std::vector<Credit> credits;
  if (first_campaign != 0) {
    credits.push_back({first_campaign, v1::ATTRIBUTION_MODEL_FIRST_TOUCH, amount_minor});
  }
  if (last_campaign != 0) {
    credits.push_back({last_campaign, v1::ATTRIBUTION_MODEL_LAST_TOUCH, amount_minor});
  }
  if (!touch_campaigns.empty()) {
    const int64_t n = static_cast<int64_t>(touch_campaigns.size());
    const int64_t share = amount_minor / n;
    int64_t remainder = amount_minor % n;
    std::map<int64_t, int64_t> linear;
    std::vector<int64_t> order;
    for (int64_t campaign : touch_campaigns) {
      if (!linear.count(campaign)) order.push_back(campaign);
      linear[campaign] += share + (remainder > 0 ? 1 : 0);
      if (remainder > 0) --remainder;
    }
    for (int64_t campaign : order) {
      credits.push_back({campaign, v1::ATTRIBUTION_MODEL_LINEAR, linear[campaign]});
    }
  }
  return credits;
}

v1::AttributedRevenue ReportRevenue(v1::AttributionModel model,
                                    const std::map<std::string, int64_t>& revenue_by_currency,
                                    const handoff::v1::Money& cost) {
  v1::AttributedRevenue line;
  line.set_model(model);
  for (const auto& [currency, minor] : revenue_by_currency) {
    handoff::v1::Money* m = line.add_revenue_by_currency();
    m->set_currency_code(currency);
    m->set_amount_minor(minor);
  }
  const std::string& currency = cost.currency_code();
  if (!currency.empty()) {
    auto it = revenue_by_currency.find(currency);
    line.mutable_revenue()->set_currency_code(currency);
    line.mutable_revenue()->set_amount_minor(it == revenue_by_currency.end() ? 0 : it->second);
    const bool one_currency = revenue_by_currency.empty() ||
                              (revenue_by_currency.size() == 1 && it != revenue_by_currency.end());
    if (cost.amount_minor() > 0 && one_currency) {
      line.set_roi(static_cast<double>(line.revenue().amount_minor() - cost.amount_minor()) /
                   static_cast<double>(cost.amount_minor()));
    }
  } else if (revenue_by_currency.size() == 1) {
    *line.mutable_revenue() = line.revenue_by_currency(0);
  }
  return line;
}

}  // namespace funnel::marketing
