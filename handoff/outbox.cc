#include "handoff/outbox.h"

#include <algorithm>
#include <sstream>

#include "common/mysql/sql_util.h"
#include "common/request_id.h"

namespace funnel::handoff {

using common::Prepare;
using common::TimeFromUnixSeconds;
using common::UnixSecondsOf;

namespace {

constexpr absl::string_view kInsertEvent = R"sql(
  INSERT INTO outbox (event_id, lead_id, kind, payload, created_at, next_attempt_at, request_id)
  VALUES (?, ?, ?, ?, FROM_UNIXTIME(?), FROM_UNIXTIME(?), ?))sql";
constexpr absl::string_view kOutboxStats = R"sql(
  SELECT SUM(delivered_at IS NULL),
         UNIX_TIMESTAMP(MIN(IF(delivered_at IS NULL, created_at, NULL))),
         SUM(delivered_at IS NOT NULL)
  FROM outbox)sql";

// Transactions run on the calling thread, so a per-thread mark ties an insert to
// the store call that made it.
thread_local bool outbox_written = false;
}  // namespace

bool TakeOutboxWritten() {
  const bool written = outbox_written;
  outbox_written = false;
  return written;
}

void InsertOutboxEvent(sql::Connection& conn, const std::string& event_id, int64_t lead_id,
                       EventKind kind, const std::string& payload, absl::Time now) {
  auto st = Prepare(conn, kInsertEvent);
  std::istringstream blob(payload);
  st->setString(1, event_id);
  st->setInt64(2, lead_id);
  st->setString(3, std::string(KindName(kind)));
  st->setBlob(4, &blob);
  st->setDouble(5, UnixSecondsOf(now));
  st->setDouble(6, UnixSecondsOf(now));
  st->setString(7, common::CurrentRequestId());
  st->executeUpdate();
  outbox_written = true;
}

OutboxStats ReadOutboxStats(sql::Connection& conn, absl::Time now) {
  auto st = Prepare(conn, kOutboxStats);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  OutboxStats stats;
  if (rs->next()) {
    stats.pending = rs->isNull(1) ? 0 : rs->getInt64(1);
    if (!rs->isNull(2)) {
      stats.oldest_pending_age_seconds =
          std::max(0.0, absl::ToDoubleSeconds(now - TimeFromUnixSeconds(rs->getDouble(2))));
    }
    stats.delivered = rs->isNull(3) ? 0 : rs->getInt64(3);
  }
  return stats;
}

}  // namespace funnel::handoff
