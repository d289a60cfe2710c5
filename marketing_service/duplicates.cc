#include "marketing_service/duplicates.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace funnel::marketing {

std::vector<DuplicatePair> DuplicatePairs(const std::vector<DuplicateGroup>& groups,
                                          int64_t only_lead) {
  std::map<std::pair<int64_t, int64_t>, std::set<int>> reasons;
  for (const DuplicateGroup& g : groups) {
    std::vector<int64_t> ids = g.lead_ids;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (size_t i = 0; i < ids.size(); ++i) {
      for (size_t j = i + 1; j < ids.size(); ++j) {
        if (only_lead != 0 && ids[i] != only_lead && ids[j] != only_lead) continue;
        reasons[{ids[i], ids[j]}].insert(g.reason);
      }
    }
  }
  std::vector<DuplicatePair> pairs;
  pairs.reserve(reasons.size());
  for (const auto& [ids, why] : reasons) {
    DuplicatePair& p = pairs.emplace_back();
    p.lead_id = ids.first;
    p.other_id = ids.second;
    for (int r : why) p.reasons.push_back(static_cast<v1::DuplicateReason>(r));
  }
  return pairs;
}

}  // namespace funnel::marketing
