#include "common/feed/feed_log.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include "absl/strings/str_cat.h"
#include "common/mysql/sql_util.h"
#include "common/mysql/statement_cache.h"
#include "common/status.h"
#include "common/time_util.h"

namespace funnel::feed {
namespace {

using common::Prepare;

constexpr absl::string_view kInsertEvents =
    "INSERT INTO feed_events (kind, entity_type, entity_id, lead_id, actor, detail, occurred_at) "
    "VALUES ";
constexpr absl::string_view kEventValues = "(?, ?, ?, ?, ?, ?, FROM_UNIXTIME(?))";

// A lead merged into another: its past events are the survivor's from now on.
constexpr absl::string_view kRelinkLead = "UPDATE feed_events SET lead_id = ? WHERE lead_id = ?";
constexpr absl::string_view kScrubLead =
    "UPDATE feed_events SET actor = '', detail = '' WHERE lead_id = ?";

constexpr absl::string_view kLockClock = "SELECT next_seq FROM feed_clock WHERE id = 1 FOR UPDATE";
constexpr absl::string_view kStartNumbering = "SET @feed_seq = ?";
// Committed rows only: the transaction reads committed, and a row a writer has
// not committed yet is not one it numbers (it waits for it or passes it over).
constexpr absl::string_view kNumberEvents =
    "UPDATE feed_events SET seq = (@feed_seq := @feed_seq + 1), sequenced_at = NOW(6) "
    "WHERE seq IS NULL ORDER BY id LIMIT ?";
constexpr absl::string_view kAdvanceClock =
    "UPDATE feed_clock SET next_seq = next_seq + ? WHERE id = 1";

constexpr absl::string_view kBounds =
    "SELECT next_seq - 1, pruned_through FROM feed_clock WHERE id = 1";

constexpr absl::string_view kEventColumns =
    "SELECT seq, kind, entity_type, entity_id, lead_id, actor, detail, "
    "UNIX_TIMESTAMP(occurred_at) FROM feed_events ";
constexpr absl::string_view kAfter = "WHERE seq > ? ORDER BY seq LIMIT ?";
constexpr absl::string_view kAfterOfType = "WHERE seq > ? AND entity_type = ? ORDER BY seq LIMIT ?";
constexpr absl::string_view kAfterOfEntity =
    "WHERE entity_type = ? AND entity_id = ? AND seq > ? ORDER BY seq LIMIT ?";

// The newest of the oldest `?` kept events that were numbered before the cutoff.
constexpr absl::string_view kPruneThrough =
    "SELECT MAX(seq) FROM (SELECT seq, sequenced_at FROM feed_events WHERE seq > ? "
    "ORDER BY seq LIMIT ?) oldest WHERE sequenced_at < FROM_UNIXTIME(?)";
constexpr absl::string_view kDropEvents = "DELETE FROM feed_events WHERE seq > ? AND seq <= ?";
constexpr absl::string_view kRecordPruned =
    "UPDATE feed_clock SET pruned_through = GREATEST(pruned_through, ?) WHERE id = 1";

thread_local bool feed_written = false;

absl::StatusOr<FeedBounds> ReadBounds(sql::Connection& conn) {
  auto st = Prepare(conn, kBounds);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  if (!rs->next())
    return absl::InternalError("feed_clock: no row (migration 001_feed not applied)");
  return FeedBounds{rs->getInt64(1), rs->getInt64(2)};
}

}  // namespace

void AppendEvents(sql::Connection& conn, const std::vector<FeedEntry>& entries) {
  common::InsertRows(conn, kInsertEvents, kEventValues, entries, 7,
                     [](sql::PreparedStatement& st, int p, const FeedEntry& e) {
                       st.setString(p, e.kind);
                       st.setString(p + 1, e.entity_type);
                       st.setString(p + 2, e.entity_id);
                       st.setInt64(p + 3, e.lead_id);
                       st.setString(p + 4, e.actor);
                       st.setString(p + 5, e.detail);
                       st.setDouble(p + 6, common::UnixSecondsOf(e.occurred_at));
                     });
  if (!entries.empty()) feed_written = true;
}

bool TakeFeedWritten() {
  const bool written = feed_written;
  feed_written = false;
  return written;
}

void RelinkLeadEvents(sql::Connection& conn, int64_t from_lead_id, int64_t to_lead_id) {
  auto st = Prepare(conn, kRelinkLead);
  st->setInt64(1, to_lead_id);
  st->setInt64(2, from_lead_id);
  st->executeUpdate();
}

void ScrubLeadEvents(sql::Connection& conn, int64_t lead_id) {
  auto st = Prepare(conn, kScrubLead);
  st->setInt64(1, lead_id);
  st->executeUpdate();
}

absl::StatusOr<int> FeedLog::Sequence(int max_events) {
  int numbered = 0;
  absl::Status status = pool_->InTransaction(
      "feed: number events",
      [&](sql::Connection& conn) -> absl::Status {
        numbered = 0;
        int64_t next = 0;
        {
          auto st = Prepare(conn, kLockClock);
          std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
          if (!rs->next()) return absl::InternalError("feed_clock: no row");
          next = rs->getInt64(1);
        }
        auto start = Prepare(conn, kStartNumbering);
        start->setInt64(1, next - 1);
        start->execute();
        auto number = Prepare(conn, kNumberEvents);
        number->setInt(1, max_events);
        numbered = number->executeUpdate();
        if (numbered == 0) return absl::OkStatus();
        auto advance = Prepare(conn, kAdvanceClock);
        advance->setInt(1, numbered);
        advance->executeUpdate();
        return absl::OkStatus();
      },
      /*read_committed=*/true);
  if (!status.ok()) return status;
  return numbered;
}

absl::StatusOr<FeedBounds> FeedLog::Bounds() {
  FeedBounds bounds;
  RETURN_IF_ERROR(pool_->WithConnection("feed: bounds", [&](sql::Connection& conn) {
    ASSIGN_OR_RETURN(bounds, ReadBounds(conn));
    return absl::OkStatus();
  }));
  return bounds;
}

absl::StatusOr<FeedPage> FeedLog::ReadAfter(int64_t after, const FeedFilter& filter, int limit) {
  FeedPage page;
  std::vector<FeedRow>& rows = page.rows;
  // One snapshot for both reads: the events, and whether any after `after` are gone.
  RETURN_IF_ERROR(pool_->InTransaction("feed: read events", [&](sql::Connection& conn) {
    rows.clear();
    ASSIGN_OR_RETURN(const FeedBounds bounds, ReadBounds(conn));
    page.pruned_through = bounds.pruned_through;
    common::Statement st;
    int p = 1;
    if (!filter.entity_id.empty()) {
      st = Prepare(conn, absl::StrCat(kEventColumns, kAfterOfEntity));
      st->setString(p++, filter.entity_type);
      st->setString(p++, filter.entity_id);
      st->setInt64(p++, after);
    } else if (!filter.entity_type.empty()) {
      st = Prepare(conn, absl::StrCat(kEventColumns, kAfterOfType));
      st->setInt64(p++, after);
      st->setString(p++, filter.entity_type);
    } else {
      st = Prepare(conn, absl::StrCat(kEventColumns, kAfter));
      st->setInt64(p++, after);
    }
    st->setInt(p, limit);
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    while (rs->next()) {
      FeedRow& row = rows.emplace_back();
      row.seq = rs->getInt64(1);
      row.entry.kind = rs->getString(2);
      row.entry.entity_type = rs->getString(3);
      row.entry.entity_id = rs->getString(4);
      row.entry.lead_id = rs->getInt64(5);
      row.entry.actor = rs->getString(6);
      row.entry.detail = rs->getString(7);
      row.entry.occurred_at = common::TimeFromUnixSeconds(rs->getDouble(8));
    }
    return absl::OkStatus();
  }));
  return page;
}

absl::StatusOr<int> FeedLog::Prune(absl::Time before, int max_events) {
  int dropped = 0;
  RETURN_IF_ERROR(pool_->InTransaction("feed: prune", [&](sql::Connection& conn) -> absl::Status {
    dropped = 0;
    ASSIGN_OR_RETURN(const FeedBounds bounds, ReadBounds(conn));
    int64_t through = 0;
    {
      auto st = Prepare(conn, kPruneThrough);
      st->setInt64(1, bounds.pruned_through);
      st->setInt(2, max_events);
      st->setDouble(3, common::UnixSecondsOf(before));
      std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
      if (!rs->next() || rs->isNull(1)) return absl::OkStatus();
      through = rs->getInt64(1);
    }
    auto drop = Prepare(conn, kDropEvents);
    drop->setInt64(1, bounds.pruned_through);
    drop->setInt64(2, through);
    dropped = drop->executeUpdate();
    auto record = Prepare(conn, kRecordPruned);
    record->setInt64(1, through);
    record->executeUpdate();
    return absl::OkStatus();
  }));
  return dropped;
}

}  // namespace funnel::feed
