#include "marketing_service/leads/lead_writes.h"

#include <cppconn/prepared_statement.h>

#include "absl/strings/str_cat.h"
#include "common/mysql/sql_util.h"
#include "common/time_util.h"
#include "marketing_service/leads/lead_rows.h"
#include "marketing_service/report_aggregates.h"

namespace funnel::marketing {
namespace {

using common::UnixSecondsOf;

constexpr absl::string_view kInsertHistoryRows =
    "INSERT INTO lead_history (lead_id, actor, action, detail, occurred_at) VALUES ";
constexpr absl::string_view kHistoryValues = "(?, ?, ?, ?, FROM_UNIXTIME(?))";
constexpr absl::string_view kInsertTouchpointRows =
    "INSERT INTO touchpoints (lead_id, campaign_id, type, occurred_at, points) VALUES ";
constexpr absl::string_view kTouchpointValues = "(?, ?, ?, FROM_UNIXTIME(?), ?)";

// Moves the rows of stored leads out of `pending` (placeholder ids stay).
template <typename Row>
std::vector<Row> TakeStored(std::vector<Row>& pending) {
  std::vector<Row> stored, waiting;
  for (Row& row : pending) (row.lead_id > 0 ? stored : waiting).push_back(std::move(row));
  pending = std::move(waiting);
  return stored;
}

}  // namespace

void LeadWrites::History(int64_t lead_id, const std::string& actor, v1::HistoryAction action,
                         absl::string_view detail, absl::Time now) {
  if (!deferred_) {
    AddHistory(conn_, lead_id, actor, action, detail, now);
    return;
  }
  history_.push_back({lead_id, actor, HistoryActionName(action), std::string(detail), now});
}

int64_t LeadWrites::Touchpoint(int64_t lead_id, bool lead_opted_out, int64_t campaign_id,
                               handoff::v1::TouchpointType type, absl::Time when, double points) {
  touchpoints_.push_back({lead_id, lead_opted_out, campaign_id, type, when, points});
  if (deferred_) return 0;
  return InsertTouchpoints();
}

int64_t LeadWrites::InsertTouchpoints() {
  const std::vector<TouchpointRow> rows = TakeStored(touchpoints_);
  common::InsertRows(conn_, kInsertTouchpointRows, kTouchpointValues, rows, 5,
                     [](sql::PreparedStatement& st, int p, const TouchpointRow& r) {
                       st.setInt64(p, r.lead_id);
                       st.setInt64(p + 1, r.campaign_id);
                       st.setInt(p + 2, r.type);
                       st.setDouble(p + 3, UnixSecondsOf(r.when));
                       st.setDouble(p + 4, r.points);
                     });
  // Read before the counting statements run (one immediate row: its id).
  const int64_t id = deferred_ || rows.empty() ? 0 : common::LastInsertId(conn_);
  std::vector<TouchpointCount> counts;
  for (const TouchpointRow& r : rows) {
    if (r.campaign_id != 0) counts.push_back({r.lead_id, r.campaign_id, r.type, r.lead_opted_out});
  }
  CountTouchpoints(conn_, counts);
  return id;
}

void LeadWrites::Flush() {
  InsertTouchpoints();
  const std::vector<HistoryRow> history = TakeStored(history_);
  common::InsertRows(conn_, kInsertHistoryRows, kHistoryValues, history, 5,
                     [](sql::PreparedStatement& st, int p, const HistoryRow& r) {
                       st.setInt64(p, r.lead_id);
                       st.setString(p + 1, r.actor);
                       st.setString(p + 2, r.action);
                       st.setString(p + 3, r.detail);
                       st.setDouble(p + 4, UnixSecondsOf(r.at));
                     });
  std::vector<feed::FeedEntry> events;
  for (const HistoryRow& r : history) {
    if (auto event = LeadFeedEntry(r.lead_id, r.actor, r.action, r.detail, r.at)) {
      events.push_back(*std::move(event));
    }
  }
  feed::AppendEvents(conn_, events);
}

void LeadWrites::Rename(const std::map<int64_t, int64_t>& lead_ids) {
  auto rename = [&](int64_t& lead_id) {
    if (lead_id >= 0) return;
    if (auto it = lead_ids.find(lead_id); it != lead_ids.end()) lead_id = it->second;
  };
  for (HistoryRow& r : history_) rename(r.lead_id);
  for (TouchpointRow& r : touchpoints_) rename(r.lead_id);
}

}  // namespace funnel::marketing
