#include "sales_service/assignments.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/feed/feed_log.h"
#include "common/mysql/sql_util.h"
#include "common/time_util.h"

namespace funnel::sales {
namespace {

using common::OptionalTime;
using common::Placeholders;
using common::Prepare;
using common::UnixSecondsOf;

constexpr absl::string_view kSetAssignment = R"sql(
  UPDATE handoffs SET assigned_rep_id = ?, assignment_reason = ?, routing_rule_id = ?,
    escalation_count = escalation_count + ?, escalate_at = FROM_UNIXTIME(?),
    version = version + 1
  WHERE handoff_id = ?)sql";
constexpr absl::string_view kInsertAssignment = R"sql(
  INSERT INTO handoff_assignments
    (handoff_id, rep_id, previous_rep_id, reason, rule_id, actor, note, assigned_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, FROM_UNIXTIME(?)))sql";
constexpr absl::string_view kSelectAssignments = R"sql(
  SELECT handoff_id, rep_id, previous_rep_id, reason, rule_id, actor, note,
    UNIX_TIMESTAMP(assigned_at)
  FROM handoff_assignments WHERE handoff_id IN )sql";
// Each assignment to the rep with its handoff's first answer and the next
// assignment of the same handoff.
constexpr absl::string_view kAssignmentSpans = R"sql(
  SELECT UNIX_TIMESTAMP(a.assigned_at), UNIX_TIMESTAMP(h.first_response_at),
    (SELECT UNIX_TIMESTAMP(MIN(n.assigned_at)) FROM handoff_assignments n
     WHERE n.handoff_id = a.handoff_id AND n.assignment_id > a.assignment_id)
  FROM handoff_assignments a JOIN handoffs h ON h.handoff_id = a.handoff_id
  WHERE a.rep_id = ? AND a.assigned_at >= FROM_UNIXTIME(?) AND a.assigned_at < FROM_UNIXTIME(?))sql";

}  // namespace

void RecordAssignment(sql::Connection& conn, const v1::Handoff& handoff, const Assignment& next,
                      absl::Time now) {
  auto st = Prepare(conn, kSetAssignment);
  st->setInt64(1, next.rep_id);
  st->setInt(2, next.reason);
  st->setInt64(3, next.rule_id);
  st->setInt(4, next.reason == v1::ASSIGNMENT_REASON_ESCALATION ? 1 : 0);
  common::SetOptionalTime(*st, 5, next.escalate_at);
  st->setString(6, handoff.handoff_id());
  st->executeUpdate();

  auto insert = Prepare(conn, kInsertAssignment);
  insert->setString(1, handoff.handoff_id());
  insert->setInt64(2, next.rep_id);
  insert->setInt64(3, handoff.assigned_rep_id());
  insert->setInt(4, next.reason);
  insert->setInt64(5, next.rule_id);
  insert->setString(6, next.actor.substr(0, 200));
  insert->setString(7, next.note.substr(0, 500));
  insert->setDouble(8, UnixSecondsOf(now));
  insert->executeUpdate();

  if (next.rep_id == handoff.assigned_rep_id()) return;  // the default queue stays one
  const bool escalated = next.reason == v1::ASSIGNMENT_REASON_ESCALATION;
  feed::AppendEvent(conn, {escalated ? "handoff.escalated" : "handoff.assigned", "handoff",
                           handoff.handoff_id(), handoff.lead().lead_id(), next.actor,
                           absl::StrCat("rep ", next.rep_id,
                                        next.rule_id != 0 ? absl::StrCat(", rule ", next.rule_id)
                                                          : std::string()),
                           now});
}

void LoadAssignments(sql::Connection& conn, const std::vector<v1::Handoff*>& handoffs) {
  if (handoffs.empty()) return;
  absl::flat_hash_map<std::string, v1::Handoff*> by_id;
  auto st = Prepare(conn, absl::StrCat(kSelectAssignments, "(", Placeholders(handoffs.size(), "?"),
                                       ") ORDER BY assignment_id"));
  for (size_t i = 0; i < handoffs.size(); ++i) {
    by_id[handoffs[i]->handoff_id()] = handoffs[i];
    st->setString(i + 1, handoffs[i]->handoff_id());
  }
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  while (rs->next()) {
    const auto it = by_id.find(std::string(rs->getString(1)));
    if (it == by_id.end()) continue;
    v1::HandoffAssignment* a = it->second->add_assignments();
    a->set_rep_id(rs->getInt64(2));
    a->set_previous_rep_id(rs->getInt64(3));
    a->set_reason(static_cast<v1::AssignmentReason>(rs->getInt(4)));
    a->set_routing_rule_id(rs->getInt64(5));
    a->set_actor(rs->getString(6));
    a->set_note(rs->getString(7));
    *a->mutable_assign_time() = common::ToProtoTime(common::TimeFromUnixSeconds(rs->getDouble(8)));
  }
}

std::vector<AssignmentSpan> ReadAssignmentSpans(sql::Connection& conn, int64_t rep_id,
                                                absl::Time from, absl::Time to) {
  auto st = Prepare(conn, kAssignmentSpans);
  st->setInt64(1, rep_id);
  st->setDouble(2, UnixSecondsOf(from));
  st->setDouble(3, UnixSecondsOf(to));
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  std::vector<AssignmentSpan> spans;
  while (rs->next()) {
    spans.push_back({common::TimeFromUnixSeconds(rs->getDouble(1)), OptionalTime(*rs, 2),
                     OptionalTime(*rs, 3)});
  }
  return spans;
}

}  // namespace funnel::sales
