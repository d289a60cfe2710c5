#pragma once

// Duplicate-lead suggestions, pure: from groups of leads that share a value (the
// store groups them in SQL, one query per reason), the pairs to suggest and why.

#include <cstdint>
#include <vector>

#include "funnel/marketing/v1/marketing_service.pb.h"

namespace funnel::marketing {

// Leads that share one value, for one reason.
struct DuplicateGroup {
  v1::DuplicateReason reason = v1::DUPLICATE_REASON_UNSPECIFIED;
  std::vector<int64_t> lead_ids;
};

struct DuplicatePair {
  int64_t lead_id = 0;                       // the lower id
  int64_t other_id = 0;                      // the higher
  std::vector<v1::DuplicateReason> reasons;  // in enum order, each once

  bool operator==(const DuplicatePair& o) const {
    return lead_id == o.lead_id && other_id == o.other_id && reasons == o.reasons;
  }
};

// A value shared by more leads than this (a switchboard number, "Test User" at
// "n/a") says nothing about any two of them; the store leaves such groups out.
inline constexpr int kMaxDuplicateGroup = 50;

// Every pair of leads within each group, the reasons of all groups they share
// merged, ordered by (lead_id, other_id). With `only_lead` non-zero, only the
// pairs that include it.
std::vector<DuplicatePair> DuplicatePairs(const std::vector<DuplicateGroup>& groups,
                                          int64_t only_lead);

}  // namespace funnel::marketing
