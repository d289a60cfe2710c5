// OpportunityStore's activities: calls, emails and meetings logged on an
// opportunity, a handoff or a contact. The first one on a handoff stops its SLA
// clock (sla.h).

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/feed/feed_log.h"
#include "common/mysql/idempotency.h"
#include "common/mysql/keyset_page.h"
#include "common/mysql/params.h"
#include "common/mysql/sql_util.h"
#include "common/pagination.h"
#include "common/status.h"
#include "common/time_util.h"
#include "sales_service/directory_store.h"
#include "sales_service/opportunity_store.h"
#include "sales_service/pipeline.h"
#include "sales_service/sla.h"

namespace funnel::sales {
namespace {

using common::LastInsertId;
using common::Prepare;
using common::SqlParam;
using common::TimeFromUnixSeconds;
using common::ToProtoTime;
using common::UnixSecondsOf;

constexpr absl::string_view kHandoffAssignee =
    "SELECT assigned_rep_id, UNIX_TIMESTAMP(received_at) FROM handoffs "
    "WHERE handoff_id = ? FOR UPDATE";
constexpr absl::string_view kStopHandoffClock =
    "UPDATE handoffs SET first_response_at = COALESCE(first_response_at, FROM_UNIXTIME(?)) "
    "WHERE handoff_id = ?";
constexpr absl::string_view kInsertActivity = R"sql(
  INSERT INTO activities (type, opportunity_id, handoff_id, contact_id, rep_id, outcome,
                          occurred_at, notes)
  VALUES (?, ?, ?, ?, ?, ?, FROM_UNIXTIME(?), ?))sql";

constexpr absl::string_view kActivityColumns =
    "activity_id, type, opportunity_id, handoff_id, contact_id, rep_id, outcome, "
    "UNIX_TIMESTAMP(occurred_at), notes";

v1::Activity ActivityFromRow(sql::ResultSet& rs) {
  v1::Activity a;
  a.set_activity_id(rs.getInt64(1));
  a.set_type(static_cast<v1::ActivityType>(rs.getInt(2)));
  a.set_opportunity_id(rs.getInt64(3));
  a.set_handoff_id(rs.getString(4));
  a.set_contact_id(rs.getInt64(5));
  a.set_rep_id(rs.getInt64(6));
  a.set_outcome(rs.getString(7));
  *a.mutable_occur_time() = ToProtoTime(TimeFromUnixSeconds(rs.getDouble(8)));
  a.set_notes(rs.getString(9));
  return a;
}

// The handoff an activity names, locked, if the caller may write on it: anyone
// while it is unassigned (it is up for taking), then its rep and their manager.
// Answers when sales received it; NOT_FOUND naming activity.handoff_id if none.
absl::StatusOr<absl::Time> LockHandoffForActivity(sql::Connection& conn, const Caller& caller,
                                                  const std::string& handoff_id) {
  auto st = Prepare(conn, kHandoffAssignee);
  st->setString(1, handoff_id);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  if (!rs->next()) {
    return absl::NotFoundError(
        absl::StrCat("activity.handoff_id: handoff ", handoff_id, " not found"));
  }
  const int64_t assignee = rs->getInt64(1);
  const absl::Time received = TimeFromUnixSeconds(rs->getDouble(2));
  if (assignee != 0) {
    RETURN_IF_ERROR(CheckCanChange(caller, assignee, ManagerOf(conn, assignee),
                                   absl::StrCat("handoff ", handoff_id)));
  }
  return received;
}

}  // namespace

absl::StatusOr<v1::Activity> OpportunityStore::LogActivity(const v1::Activity& in,
                                                           const Caller& caller,
                                                           const common::RequestKey& request_id,
                                                           absl::Time now) {
  return common::IdempotentTransaction<v1::Activity>(
      *pool_, "LogActivity", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::Activity> {
        v1::Activity a = in;
        if (a.rep_id() == 0) a.set_rep_id(caller.rep_id);
        if (a.rep_id() != 0) {
          ASSIGN_OR_RETURN(v1::Rep rep, ReadRep(conn, a.rep_id(), "activity.rep_id"));
          RETURN_IF_ERROR(CheckCanChange(caller, rep.rep_id(), rep.manager_rep_id(),
                                         "that rep's activity log"));
        }
        // An activity is a write on what it names: the same rules as any other.
        int64_t lead_id = 0;  // the marketing lead it concerns, for the feed
        if (a.opportunity_id() != 0) {
          ASSIGN_OR_RETURN(v1::Opportunity o, ReadOpportunity(conn, a.opportunity_id(), false));
          RETURN_IF_ERROR(CheckOwner(conn, caller, o));
          lead_id = o.lead_id();
        }
        std::optional<absl::Time> handoff_received;
        if (!a.handoff_id().empty()) {
          ASSIGN_OR_RETURN(handoff_received, LockHandoffForActivity(conn, caller, a.handoff_id()));
        }
        if (a.contact_id() != 0) {
          RETURN_IF_ERROR(CheckContactExists(conn, a.contact_id(), "activity.contact_id"));
        }
        const absl::Time when = a.has_occur_time() ? common::FromProtoTime(a.occur_time()) : now;
        RETURN_IF_ERROR(CheckActivityTime(when, handoff_received, now, "activity.occur_time"));
        if (!a.handoff_id().empty()) {
          auto h = Prepare(conn, kStopHandoffClock);
          h->setDouble(1, UnixSecondsOf(when));
          h->setString(2, a.handoff_id());
          h->executeUpdate();
        }
        auto st = Prepare(conn, kInsertActivity);
        st->setInt(1, a.type());
        st->setInt64(2, a.opportunity_id());
        st->setString(3, a.handoff_id());
        st->setInt64(4, a.contact_id());
        st->setInt64(5, a.rep_id());
        st->setString(6, a.outcome());
        st->setDouble(7, UnixSecondsOf(when));
        st->setString(8, a.notes());
        st->executeUpdate();
        a.set_activity_id(LastInsertId(conn));
        *a.mutable_occur_time() = ToProtoTime(when);
        // The type and what it is about; never its notes or outcome (free text).
        std::string about = a.opportunity_id() != 0
                                ? absl::StrCat(" on opportunity ", a.opportunity_id())
                            : !a.handoff_id().empty() ? absl::StrCat(" on handoff ", a.handoff_id())
                                                      : "";
        feed::AppendEvent(
            conn, {"activity.logged", "activity", absl::StrCat(a.activity_id()), lead_id,
                   absl::StrCat("rep ", a.rep_id()),
                   absl::StrCat(
                       absl::StripPrefix(v1::ActivityType_Name(a.type()), "ACTIVITY_TYPE_"), about),
                   now});
        return a;
      });
}

absl::StatusOr<v1::ListActivitiesResponse> OpportunityStore::ListActivities(
    const v1::ListActivitiesRequest& f, int page_size) {
  const std::string scope = absl::StrCat("activities:", f.opportunity_id(), ":", f.handoff_id(),
                                         ":", f.contact_id(), ":", f.rep_id());
  common::KeysetQuery query(kActivityColumns, "activities", "activity_id");
  if (f.opportunity_id() != 0) query.Where("opportunity_id = ?", f.opportunity_id());
  if (!f.handoff_id().empty()) query.Where("handoff_id = ?", f.handoff_id());
  if (f.contact_id() != 0) query.Where("contact_id = ?", f.contact_id());
  if (f.rep_id() != 0) query.Where("rep_id = ?", f.rep_id());
  return query.Page(*pool_, scope, f.page_token(), page_size, &ActivityFromRow,
                    &v1::ListActivitiesResponse::mutable_activities, &v1::Activity::activity_id);
}

}  // namespace funnel::sales
