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

}  // namespace funnel::marketing
