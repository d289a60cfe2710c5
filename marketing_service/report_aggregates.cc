#include "marketing_service/report_aggregates.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/mysql/sql_util.h"
#include "common/time_util.h"

namespace funnel::marketing {
namespace {

using common::Placeholders;
using common::Prepare;
using common::UnixSecondsOf;

constexpr int kReachCounter = 0;
constexpr int kShards = 16;  // as in migration 004's backfill (and lead_days, 009)

// (campaign_id, counter, shard) -> delta. Ordered, so every transaction takes the
// counter rows' locks in the same order.
using Deltas = std::map<std::tuple<int64_t, int, int>, int64_t>;

void Add(Deltas& deltas, int64_t campaign_id, int counter, int64_t lead_id, int64_t delta) {
  deltas[{campaign_id, counter, static_cast<int>(lead_id % kShards)}] += delta;
}

void ApplyDeltas(sql::Connection& conn, const Deltas& deltas) {
  if (deltas.empty()) return;
  auto st = Prepare(
      conn,
      absl::StrCat("INSERT INTO campaign_counters (campaign_id, counter, shard, value) VALUES ",
                   Placeholders(deltas.size(), "(?, ?, ?, ?)"),
                   " ON DUPLICATE KEY UPDATE value = value + VALUES(value)"));
  int p = 1;
  for (const auto& [key, delta] : deltas) {
    st->setInt64(p++, std::get<0>(key));
    st->setInt(p++, std::get<1>(key));
    st->setInt(p++, std::get<2>(key));
    st->setInt64(p++, delta);
  }
  st->executeUpdate();
}

// The (campaign, lead) pairs already recorded among the given leads'.
std::set<std::pair<int64_t, int64_t>> KnownPairs(sql::Connection& conn,
                                                 const std::set<int64_t>& leads) {
  std::set<std::pair<int64_t, int64_t>> known;
  auto st = Prepare(
      conn, absl::StrCat("SELECT campaign_id, lead_id FROM campaign_leads WHERE lead_id IN (",
                         Placeholders(leads.size(), "?"), ")"));
  int p = 1;
  for (int64_t lead : leads) st->setInt64(p++, lead);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  while (rs->next()) known.emplace(rs->getInt64(1), rs->getInt64(2));
  return known;
}

}  // namespace

void CountTouchpoints(sql::Connection& conn, const std::vector<TouchpointCount>& touchpoints) {
  if (touchpoints.empty()) return;
  std::set<int64_t> leads;
  for (const TouchpointCount& t : touchpoints) leads.insert(t.lead_id);
  const std::set<std::pair<int64_t, int64_t>> known = KnownPairs(conn, leads);
  Deltas deltas;
  std::map<std::pair<int64_t, int64_t>, bool> fresh;  // new pair -> lead opted out
  for (const TouchpointCount& t : touchpoints) {
    Add(deltas, t.campaign_id, t.type, t.lead_id, 1);
    if (!known.count({t.campaign_id, t.lead_id}))
      fresh.emplace(std::pair{t.campaign_id, t.lead_id}, t.lead_opted_out);
  }
  if (!fresh.empty()) {
    auto st =
        Prepare(conn, absl::StrCat("INSERT INTO campaign_leads (campaign_id, lead_id) VALUES ",
                                   Placeholders(fresh.size(), "(?, ?)")));
    int p = 1;
    for (const auto& [pair, opted_out] : fresh) {
      st->setInt64(p++, pair.first);
      st->setInt64(p++, pair.second);
      if (!opted_out) Add(deltas, pair.first, kReachCounter, pair.second, 1);
    }
    st->executeUpdate();
  }
  ApplyDeltas(conn, deltas);
}

void CountConsentChanges(sql::Connection& conn, const std::map<int64_t, bool>& opted_out_now) {
  if (opted_out_now.empty()) return;
  std::set<int64_t> leads;
  for (const auto& [lead, opted_out] : opted_out_now) leads.insert(lead);
  Deltas deltas;
  for (const auto& [campaign, lead] : KnownPairs(conn, leads)) {
    Add(deltas, campaign, kReachCounter, lead, opted_out_now.at(lead) ? -1 : 1);
  }
  ApplyDeltas(conn, deltas);
}

void CountMergedLeads(sql::Connection& conn, int64_t survivor_id, bool survivor_opted_out,
                      const std::vector<MergedLead>& merged) {
  if (merged.empty()) return;
  std::set<int64_t> leads = {survivor_id};
  std::map<int64_t, bool> opted_out;
  for (const MergedLead& m : merged) {
    leads.insert(m.lead_id);
    opted_out[m.lead_id] = m.opted_out;
  }
  std::set<int64_t> survivor_campaigns;
  std::set<int64_t> joined;
  const std::set<std::pair<int64_t, int64_t>> pairs = KnownPairs(conn, leads);
  for (const auto& [campaign, lead] : pairs) {
    if (lead == survivor_id) survivor_campaigns.insert(campaign);
  }
  Deltas deltas;
  for (const auto& [campaign, lead] : pairs) {
    if (lead == survivor_id) continue;
    if (!opted_out.at(lead)) Add(deltas, campaign, kReachCounter, lead, -1);
    if (survivor_campaigns.insert(campaign).second) {
      joined.insert(campaign);
      if (!survivor_opted_out) Add(deltas, campaign, kReachCounter, survivor_id, 1);
    }
  }
  auto drop = Prepare(conn, absl::StrCat("DELETE FROM campaign_leads WHERE lead_id IN (",
                                         Placeholders(merged.size(), "?"), ")"));
  int p = 1;
  for (const MergedLead& m : merged) drop->setInt64(p++, m.lead_id);
  drop->executeUpdate();
  if (!joined.empty()) {
    auto join =
        Prepare(conn, absl::StrCat("INSERT INTO campaign_leads (campaign_id, lead_id) VALUES ",
                                   Placeholders(joined.size(), "(?, ?)")));
    p = 1;
    for (int64_t campaign : joined) {
      join->setInt64(p++, campaign);
      join->setInt64(p++, survivor_id);
    }
    join->executeUpdate();
  }
  ApplyDeltas(conn, deltas);
  for (const MergedLead& m : merged) CountCapturedLeads(conn, -1, m.created_at, m.lead_id);
}

CampaignCounts ReadCampaignCounts(sql::Connection& conn, int64_t campaign_id) {
  CampaignCounts counts;
  auto st = Prepare(conn,
                    "SELECT counter, SUM(value) FROM campaign_counters WHERE campaign_id = ? "
                    "GROUP BY counter ORDER BY counter");
  st->setInt64(1, campaign_id);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  while (rs->next()) {
    const int counter = rs->getInt(1);
    if (counter == kReachCounter) {
      counts.reach = rs->getInt64(2);
    } else if (rs->getInt64(2) != 0) {
      counts.touchpoints_by_type[counter] = rs->getInt64(2);
    }
  }
  return counts;
}

void CountCapturedLeads(sql::Connection& conn, int64_t n, absl::Time when, int64_t lead_id) {
  if (n == 0) return;
  auto st = Prepare(conn,
                    "INSERT INTO lead_days (day, shard, captured) "
                    "VALUES (DATE(FROM_UNIXTIME(?)), ?, ?) "
                    "ON DUPLICATE KEY UPDATE captured = captured + VALUES(captured)");
  st->setDouble(1, UnixSecondsOf(when));
  st->setInt(2, static_cast<int>(lead_id % kShards));
  st->setInt64(3, n);
  st->executeUpdate();
}

int64_t LeadsCaptured(sql::Connection& conn, absl::Time start, absl::Time end) {
  const absl::Time first_day =
      absl::Ceil(start - absl::UnixEpoch(), absl::Hours(24)) + absl::UnixEpoch();
  const absl::Time last_day =
      absl::Floor(end - absl::UnixEpoch(), absl::Hours(24)) + absl::UnixEpoch();
  constexpr absl::string_view kRaw =
      "SELECT COUNT(*) FROM leads WHERE created_at >= FROM_UNIXTIME(?) AND created_at < "
      "FROM_UNIXTIME(?) AND merged_into = 0";
  auto count = [&](absl::string_view sql, absl::Time from, absl::Time to) -> int64_t {
    if (from >= to) return 0;
    auto st = Prepare(conn, sql);
    st->setDouble(1, UnixSecondsOf(from));
    st->setDouble(2, UnixSecondsOf(to));
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    return rs->next() ? rs->getInt64(1) : 0;
  };
  if (first_day >= last_day) return count(kRaw, start, end);
  return count(
             "SELECT COALESCE(SUM(captured), 0) FROM lead_days WHERE day >= DATE(FROM_UNIXTIME(?)) "
             "AND "
             "day < DATE(FROM_UNIXTIME(?))",
             first_day, last_day) +
         count(kRaw, start, first_day) + count(kRaw, last_day, end);
}

}  // namespace funnel::marketing
