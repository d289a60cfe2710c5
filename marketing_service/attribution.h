#pragma once

// Revenue attribution, pure: how a won deal's amount is credited to campaigns.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "funnel/marketing/v1/marketing_service.pb.h"

namespace funnel::marketing {

struct Credit {
  int64_t campaign_id;
  v1::AttributionModel model;
  int64_t amount_minor;
};

// Splits `amount_minor` three ways:
//   FIRST_TOUCH: all to `first_campaign`; LAST_TOUCH: all to `last_campaign`;
//   LINEAR: evenly over `touch_campaigns` (one entry per touchpoint, in time order;
//   a campaign touched twice gets two shares), the minor units left over by integer
//   division going one each to the earliest touches, so each model sums to exactly
//   the amount. A model with no campaign credits nothing. Credits of one campaign
//   within a model are merged.
std::vector<Credit> Attribute(int64_t amount_minor, int64_t first_campaign, int64_t last_campaign,
                              const std::vector<int64_t>& touch_campaigns);

// One model's line of a campaign's metrics from what it was credited, per currency
// (currency code -> minor units): see AttributedRevenue in the proto. `cost` is the
// campaign's actual cost; its currency is the campaign's.
v1::AttributedRevenue ReportRevenue(v1::AttributionModel model,
                                    const std::map<std::string, int64_t>& revenue_by_currency,
                                    const handoff::v1::Money& cost);

}  // namespace funnel::marketing
