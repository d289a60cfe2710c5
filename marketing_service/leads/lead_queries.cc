// LeadStore's reads: a lead, lists of leads, a lead's touchpoints and history,
// and where its handoff stands. (Captures are in lead_capture.cc,
// changes in lead_changes.cc.)

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/mysql/keyset_page.h"
#include "common/mysql/params.h"
#include "common/mysql/sql_util.h"
#include "common/pagination.h"
#include "common/status.h"
#include "common/time_util.h"
#include "handoff/outbox.h"
#include "marketing_service/leads/lead_rows.h"
#include "marketing_service/leads/lead_store.h"

namespace funnel::marketing {
namespace {

using common::Prepare;
using common::SqlParam;
using common::TimeFromUnixSeconds;
using common::ToProtoTime;

// Listed a keyset page at a time (common::KeysetQuery), by their ids.
// A lead's capture time to the microsecond, as the session's UTC text.
constexpr absl::string_view kLeadCreatedKey =
    "DATE_FORMAT(l.created_at, '%Y-%m-%d %H:%i:%s.%f') AS created_key";
constexpr absl::string_view kTouchpointColumns =
    "touchpoint_id, lead_id, campaign_id, type, UNIX_TIMESTAMP(occurred_at), points";
constexpr absl::string_view kHistoryColumns =
    "entry_id, lead_id, actor, action, detail, UNIX_TIMESTAMP(occurred_at)";

constexpr absl::string_view kSelectOutboxOfLead = R"sql(
  SELECT event_id, kind, attempts, last_error, UNIX_TIMESTAMP(created_at),
         UNIX_TIMESTAMP(delivered_at)
  FROM outbox WHERE lead_id = ? OR lead_id IN (SELECT m.lead_id FROM leads m WHERE m.merged_into = ?)
  ORDER BY seq)sql";

v1::Touchpoint TouchpointFromRow(sql::ResultSet& rs) {
  v1::Touchpoint t;
  t.set_touchpoint_id(rs.getInt64(1));
  t.set_lead_id(rs.getInt64(2));
  t.set_campaign_id(rs.getInt64(3));
  t.set_type(static_cast<handoff::v1::TouchpointType>(rs.getInt(4)));
  *t.mutable_occur_time() = ToProtoTime(TimeFromUnixSeconds(rs.getDouble(5)));
  t.set_points(rs.getDouble(6));
  return t;
}

v1::LeadHistoryEntry HistoryEntryFromRow(sql::ResultSet& rs) {
  v1::LeadHistoryEntry e;
  e.set_entry_id(rs.getInt64(1));
  e.set_lead_id(rs.getInt64(2));
  e.set_actor(rs.getString(3));
  e.set_action(rs.getString(4));
  e.set_kind(HistoryActionFromName(e.action()));
  e.set_detail(rs.getString(5));
  *e.mutable_occur_time() = ToProtoTime(TimeFromUnixSeconds(rs.getDouble(6)));
  return e;
}

// Appends the SQL and parameters of `filter` (without paging).
void AppendFilter(const LeadFilter& filter, std::string* where, std::vector<SqlParam>* params) {
  if (filter.temperature != handoff::v1::TEMPERATURE_UNSPECIFIED) {
    absl::StrAppend(where, " AND l.temperature = ?");
    params->push_back(int64_t{filter.temperature});
  }
  if (filter.stage != v1::LEAD_STAGE_UNSPECIFIED) {
    absl::StrAppend(where, " AND l.stage = ?");
    params->push_back(int64_t{filter.stage});
  }
  if (filter.campaign_id != 0) {
    absl::StrAppend(where,
                    " AND EXISTS (SELECT 1 FROM touchpoints t WHERE t.lead_id = l.lead_id "
                    "AND t.campaign_id = ?)");
    params->push_back(filter.campaign_id);
  }
  if (filter.exclude_erased) absl::StrAppend(where, " AND l.erased = FALSE");
  if (!filter.email.empty()) {
    // A merged-away address finds the person it now belongs to.
    absl::StrAppend(where, " AND l.lead_id = ", LiveLeadIdOf("m.email = ?"));
    params->push_back(filter.email);
  }
  if (filter.segment) AppendSegmentCriteria(*filter.segment, where, params);
}

}  // namespace

absl::StatusOr<v1::Lead> LeadStore::FindLead(int64_t lead_id) {
  v1::Lead lead;
  RETURN_IF_ERROR(pool_->WithConnection("find lead", [&](sql::Connection& conn) -> absl::Status {
    auto st = Prepare(
        conn, absl::StrCat("SELECT ", kLeadColumns,
                           " FROM leads l WHERE l.lead_id = ", LiveLeadIdOf("m.lead_id = ?")));
    st->setInt64(1, lead_id);
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    if (!rs->next()) return absl::NotFoundError(absl::StrCat("lead ", lead_id, " not found"));
    lead = LeadFromRow(*rs).lead;
    if (lead.lead_id() != lead_id) lead.set_merged_into_lead_id(lead.lead_id());
    return absl::OkStatus();
  }));
  return lead;
}

absl::StatusOr<v1::ListLeadsResponse> LeadStore::ListLeads(const LeadFilter& filter, int page_size,
                                                           const std::string& page_token) {
  // Newest first is by capture time, not by id: ids from several Galera nodes are
  // neither contiguous nor in time order. The lead id breaks ties (one batch's leads
  // share a time). The time in a page token is the column's exact text, so no
  // microsecond is lost to a round trip through a double.
  const bool by_score = filter.order == v1::LEAD_ORDER_SCORE_DESC;
  ASSIGN_OR_RETURN(std::vector<std::string> key,
                   common::DecodePageToken(filter.scope, page_token, 2));
  std::string where = "l.merged_into = 0";
  std::vector<SqlParam> params;
  AppendFilter(filter, &where, &params);
  if (!key.empty()) {
    int64_t last_id = 0;
    double last_score = 0;
    if (!absl::SimpleAtoi(key.back(), &last_id) ||
        (by_score && !absl::SimpleAtod(key.front(), &last_score))) {
      return absl::InvalidArgumentError("page_token: malformed");
    }
    if (by_score) {
      absl::StrAppend(&where, " AND (l.score < ? OR (l.score = ? AND l.lead_id < ?))");
      params.insert(params.end(), {last_score, last_score, last_id});
    } else {
      absl::StrAppend(&where, " AND (l.created_at < ? OR (l.created_at = ? AND l.lead_id < ?))");
      params.insert(params.end(), {key.front(), key.front(), last_id});
    }
  }
  const std::string sql = absl::StrCat(
      "SELECT ", kLeadColumns, ", ", kLeadCreatedKey, " FROM leads l WHERE ", where, " ORDER BY ",
      by_score ? "l.score DESC, l.lead_id DESC" : "l.created_at DESC, l.lead_id DESC", " LIMIT ?");
  params.push_back(int64_t{page_size + 1});
  v1::ListLeadsResponse response;
  std::string last_created;
  RETURN_IF_ERROR(pool_->WithConnection("list leads", [&](sql::Connection& conn) {
    auto st = Prepare(conn, sql);
    common::BindAll(*st, params);
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    for (int n = 0; rs->next(); ++n) {
      *response.add_leads() = LeadFromRow(*rs).lead;
      if (n == page_size - 1) last_created = rs->getString("created_key");
    }
    return absl::OkStatus();
  }));
  if (response.leads_size() > page_size) {
    response.mutable_leads()->RemoveLast();
    const v1::Lead& last = response.leads(page_size - 1);
    const std::string first_key = by_score ? absl::StrFormat("%.17g", last.score()) : last_created;
    response.set_next_page_token(
        common::EncodePageToken(filter.scope, {first_key, absl::StrCat(last.lead_id())}));
  }
  return response;
}

absl::StatusOr<v1::ListTouchpointsResponse> LeadStore::ListTouchpoints(
    int64_t lead_id, int page_size, const std::string& page_token) {
  ASSIGN_OR_RETURN(const v1::Lead lead, FindLead(lead_id));  // NOT_FOUND for no such lead
  const std::string scope = absl::StrCat("touchpoints:", lead.lead_id());
  return common::KeysetQuery(kTouchpointColumns, "touchpoints", "touchpoint_id")
      .Where("lead_id = ?", lead.lead_id())
      .Page(*pool_, scope, page_token, page_size, &TouchpointFromRow,
            &v1::ListTouchpointsResponse::mutable_touchpoints, &v1::Touchpoint::touchpoint_id);
}

absl::StatusOr<v1::ListLeadHistoryResponse> LeadStore::ListHistory(int64_t lead_id, int page_size,
                                                                   const std::string& page_token) {
  ASSIGN_OR_RETURN(const v1::Lead lead, FindLead(lead_id));  // NOT_FOUND for no such lead
  const std::string scope = absl::StrCat("history:", lead.lead_id());
  return common::KeysetQuery(kHistoryColumns, "lead_history", "entry_id")
      .Where("lead_id = ?", lead.lead_id())
      .Page(*pool_, scope, page_token, page_size, &HistoryEntryFromRow,
            &v1::ListLeadHistoryResponse::mutable_entries, &v1::LeadHistoryEntry::entry_id);
}

absl::StatusOr<v1::HandoffStatus> LeadStore::GetHandoffStatus(int64_t lead_id) {
  ASSIGN_OR_RETURN(v1::Lead lead, FindLead(lead_id));
  v1::HandoffStatus status;
  status.set_lead_id(lead.lead_id());
  RETURN_IF_ERROR(pool_->WithConnection("handoff status", [&](sql::Connection& conn) {
    auto st = Prepare(conn, kSelectOutboxOfLead);  // the merged leads' events too
    st->setInt64(1, lead.lead_id());
    st->setInt64(2, lead.lead_id());
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    while (rs->next()) {
      v1::OutboxEvent* e = status.add_events();
      e->set_event_id(rs->getString(1));
      e->set_kind(rs->getString(2));
      e->set_attempts(rs->getInt(3));
      e->set_last_error(rs->getString(4));
      *e->mutable_create_time() = ToProtoTime(TimeFromUnixSeconds(rs->getDouble(5)));
      if (rs->isNull(6)) {
        e->set_state(v1::DELIVERY_STATE_PENDING);
      } else {
        e->set_state(v1::DELIVERY_STATE_DELIVERED);
        *e->mutable_deliver_time() = ToProtoTime(TimeFromUnixSeconds(rs->getDouble(6)));
      }
    }
    return absl::OkStatus();
  }));
  return status;
}

absl::StatusOr<handoff::v1::RelayStats> LeadStore::GetRelayStats(absl::Time now) {
  handoff::v1::RelayStats stats;
  RETURN_IF_ERROR(pool_->WithConnection("relay stats", [&](sql::Connection& conn) {
    stats = handoff::ToRelayStatsProto(handoff::ReadOutboxStats(conn, now));
    return absl::OkStatus();
  }));
  return stats;
}

}  // namespace funnel::marketing
