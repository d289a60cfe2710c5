#pragma once

// A marketing lead as stored (with the scoring state the API does not show), and the
// few SQL steps every lead change is built from, used inside a caller's transaction.

#include <cppconn/connection.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/feed/feed_log.h"
#include "common/mysql/params.h"
#include "funnel/marketing/v1/marketing_service.pb.h"
#include "marketing_service/scoring.h"

namespace funnel::marketing {

struct LeadRow {
  v1::Lead lead;
  Engagement engagement;
  std::optional<absl::Time> last_touch_at;
  // Whether the stored row is opted out: a save that flips it moves the lead out of
  // (or back into) campaign reach counts.
  bool stored_opted_out = false;
  // The survivor this lead was merged into (a tombstone); 0 for a live lead.
  int64_t merged_into = 0;
  // When the person last became a customer. Like sales_account_id and
  // sales_contact_id, written by the feedback store only (never by a save).
  std::optional<absl::Time> won_at;
};

// A subquery answering the id a lead answers under: its own, or the survivor it
// was merged into; `match` selects the lead (alias `m`), e.g. "m.lead_id = ?".
std::string LiveLeadIdOf(absl::string_view match);

// The SELECT list LeadFromRow reads (table alias `l`).
extern const absl::string_view kLeadColumns;

LeadRow LeadFromRow(sql::ResultSet& rs);

// Locks and reads the lead matching `where` (with one `?` bound to `key`);
// NOT_FOUND "<what> not found" when none does.
absl::StatusOr<LeadRow> LockLead(sql::Connection& conn, absl::string_view where,
                                 const common::SqlParam& key, absl::string_view what);
// A merged-away id locks and reads its survivor instead, with the answer's
// merged_into_lead_id set: a change by an old id is a change of the person.
absl::StatusOr<LeadRow> LockLeadById(sql::Connection& conn, int64_t lead_id);
// `row` itself, or the survivor it was merged into, locked and read as above.
absl::StatusOr<LeadRow> LockSurvivor(sql::Connection& conn, LeadRow row);

// Writes every mutable column of `row` and bumps its version (and etag). Any
// touchpoints deferred in the transaction must be flushed first (the reach counts
// move every campaign the lead has been touched by).
void SaveLead(sql::Connection& conn, LeadRow& row, absl::Time now);

// Writes every mutable column of each row in one statement per 500 rows, with
// the version and update time the rows hold (see BumpVersion). The rows must exist
// and be locked by the caller's transaction.
void SaveLeads(sql::Connection& conn, const std::vector<LeadRow*>& rows, absl::Time now);

// Inserts leads that are not stored yet, every column as the row holds it plus
// `created_at` (no row is written twice), and sets each row's lead_id and create
// time as stored. Rows need distinct emails; one already taken fails the statement
// (sql::SQLException, duplicate key).
void InsertLeads(sql::Connection& conn, const std::vector<LeadRow*>& rows, absl::Time created_at);

// Moves campaign reach counts for rows whose opt-out differs from what is stored,
// and marks them stored. SaveLeads does it; InsertLeads' caller does it after the
// rows' touchpoints are counted.
void CountOptOutFlips(sql::Connection& conn, const std::vector<LeadRow*>& rows);

// Advances the row's version (etag) and update time in memory, as a save does.
void BumpVersion(LeadRow& row, absl::Time now);

// Appends to the lead's audit history, and to the change feed every entry but a
// touchpoint (kind "lead.<action>").
void AddHistory(sql::Connection& conn, int64_t lead_id, const std::string& actor,
                v1::HistoryAction action, absl::string_view detail, absl::Time now);

// How a history action is stored and shown as text ("captured"), and back
// (HISTORY_ACTION_UNSPECIFIED for a name this build does not know).
std::string HistoryActionName(v1::HistoryAction action);
v1::HistoryAction HistoryActionFromName(absl::string_view name);

// The change-feed event of a history entry; none for a touchpoint (a lead's
// touchpoints are many and are read with ListTouchpoints).
std::optional<feed::FeedEntry> LeadFeedEntry(int64_t lead_id, const std::string& actor,
                                             absl::string_view action, absl::string_view detail,
                                             absl::Time at);

// Appends " AND ..." conditions on leads `l` that match a segment's criteria.
void AppendSegmentCriteria(const v1::SegmentCriteria& criteria, std::string* where,
                           std::vector<common::SqlParam>* params);

// Recomputes score and temperature of `row` under `policy` at `now`.
void Rescore(const v1::ScoringPolicy& policy, LeadRow& row, absl::Time now);

}  // namespace funnel::marketing
