#pragma once

// The pre-aggregated report figures (migration 004), kept by the transactions that
// change what they count, so a report costs a few row reads whatever the volume:
// campaign reach and touchpoints by type (kept by writes that add touchpoints or
// change a lead's consent; the caller's transaction must hold the leads' row
// locks), and leads captured per day.

#include <cppconn/connection.h>

#include <cstdint>
#include <map>
#include <vector>

#include "absl/time/time.h"

namespace funnel::marketing {

struct TouchpointCount {
  int64_t lead_id;
  int64_t campaign_id;
  int type;
  // The lead's opt-out as stored when the touchpoint was recorded; a change in
  // the same transaction is counted by CountConsentChanges when the lead is saved.
  bool lead_opted_out;
};

// Counts touchpoints just inserted: their types, and each lead a campaign reaches
// for the first time.
void CountTouchpoints(sql::Connection& conn, const std::vector<TouchpointCount>& touchpoints);

// For leads whose opt-out flipped (lead_id -> now opted out), moves them out of or
// back into the reach of every campaign that touched them.
void CountConsentChanges(sql::Connection& conn, const std::map<int64_t, bool>& opted_out_now);

// A lead merged into another (MergeLeads), as stored before the merge.
struct MergedLead {
  int64_t lead_id;
  bool opted_out;
  absl::Time created_at;
};

// Counts the merged leads' people as the survivor: each leaves the reach of every
// campaign that touched it (the survivor joins those it had not been in, counted
// by its stored opt-out) and its day's capture count. The caller's transaction
// holds all their row locks; touchpoint counts stay (they are summed over leads).
void CountMergedLeads(sql::Connection& conn, int64_t survivor_id, bool survivor_opted_out,
                      const std::vector<MergedLead>& merged);

struct CampaignCounts {
  int64_t reach = 0;
  std::map<int, int64_t> touchpoints_by_type;
};

CampaignCounts ReadCampaignCounts(sql::Connection& conn, int64_t campaign_id);

// Counts `n` leads created at `when`, in the shard of `lead_id` (one of them): the
// day's count is spread over rows so that concurrent batches seldom write the same
// one, which on a Galera cluster with writers on two nodes fails certification.
void CountCapturedLeads(sql::Connection& conn, int64_t n, absl::Time when, int64_t lead_id);

// Leads created in [start, end): whole UTC days from the daily counts, the partial
// days at either end from the leads' creation times.
int64_t LeadsCaptured(sql::Connection& conn, absl::Time start, absl::Time end);

}  // namespace funnel::marketing
