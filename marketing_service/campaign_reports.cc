#include "marketing_service/campaign_reports.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/mysql/parallel_reads.h"
#include "common/mysql/params.h"
#include "common/mysql/sql_util.h"
#include "common/status.h"
#include "common/time_util.h"
#include "funnel/handoff/v1/handoff.pb.h"
#include "marketing_service/attribution.h"
#include "marketing_service/leads/lead_rows.h"
#include "marketing_service/report_aggregates.h"

namespace funnel::marketing {
namespace {

using common::Prepare;
using common::UnixSecondsOf;

// Metrics (reach and touchpoints come from the counters, see report_aggregates.h).
constexpr absl::string_view kLeadsFirstTouched =
    "SELECT COUNT(*) FROM leads WHERE first_touch_campaign_id = ? AND merged_into = 0";
// Decisions as the statements compare them, named from the contract.
const std::string kAccepted = absl::StrCat("decision = ", handoff::v1::DECISION_ACCEPTED);
const std::string kRejected = absl::StrCat("decision = ", handoff::v1::DECISION_REJECTED);
const std::string kHandoffCounts = absl::StrCat(R"sql(
  SELECT COUNT(DISTINCT lead_id), COALESCE(SUM(delivered_at IS NOT NULL), 0),
         COALESCE(SUM()sql",
                                                kAccepted, R"sql(), 0),
         COALESCE(SUM(sla_deadline IS NOT NULL AND
                      ((decided_at IS NULL AND sla_deadline < FROM_UNIXTIME(?)) OR
                       decided_at > sla_deadline)), 0)
  FROM handoffs WHERE first_touch_campaign_id = ?)sql");
// Attributions hold each deal's latest outcome only (feedback_store.cc).
constexpr absl::string_view kAttributed = R"sql(
  SELECT model, currency, SUM(amount_minor), business_type FROM attributions
  WHERE campaign_id = ? GROUP BY model, currency, business_type)sql";
constexpr absl::string_view kWonDeals =
    "SELECT COUNT(DISTINCT handoff_id) FROM attributions WHERE campaign_id = ?";
// Funnel steps in distinct leads (FunnelStats); CampaignReports::FunnelStats ranges
// and scopes them.
constexpr absl::string_view kDistinctLeadsOfHandoffs =
    "SELECT COUNT(DISTINCT lead_id) FROM handoffs";
constexpr absl::string_view kHandoffsOfLeadsHandedOffBefore = R"sql(
  SELECT COUNT(*) FROM handoffs h)sql";
constexpr absl::string_view kHandedOffBefore = R"sql(
  EXISTS (SELECT 1 FROM handoffs e WHERE e.lead_id = h.lead_id AND e.created_at < h.created_at
            AND e.delivered_at IS NOT NULL))sql";
// A person once: not a lead merged into another.
constexpr absl::string_view kPerson = "merged_into = 0";
constexpr absl::string_view kQualifiedByEnd =
    "lead_id IN (SELECT q.lead_id FROM handoffs q WHERE q.created_at < FROM_UNIXTIME(?))";
constexpr absl::string_view kDeliveredByEnd =
    "delivered_at IS NOT NULL AND delivered_at < FROM_UNIXTIME(?)";
const std::string kAcceptedByEnd = absl::StrCat(kAccepted, " AND decided_at < FROM_UNIXTIME(?)");
const std::string kRejections = absl::StrCat(R"sql(
  SELECT rejection_reason, COUNT(*) FROM handoffs
  WHERE first_touch_campaign_id = ? AND )sql",
                                             kRejected, " GROUP BY rejection_reason ORDER BY 1");

// Rounds a / b to the nearest integer (b > 0).
int64_t DivideRounded(int64_t a, int64_t b) { return (a + b / 2) / b; }

// `cost` divided by `count` of something, in the cost's currency (0 for none).
handoff::v1::Money CostPer(const handoff::v1::Money& cost, int64_t count) {
  handoff::v1::Money per = cost;
  per.set_amount_minor(count > 0 ? DivideRounded(cost.amount_minor(), count) : 0);
  return per;
}

}  // namespace

absl::StatusOr<v1::CampaignMetrics> CampaignReports::Metrics(int64_t campaign_id, absl::Time now) {
  ASSIGN_OR_RETURN(v1::Campaign campaign, campaigns_->Get(campaign_id));
  v1::CampaignMetrics m;
  m.set_campaign_id(campaign_id);
  RETURN_IF_ERROR(pool_->WithConnection("campaign metrics", [&](sql::Connection& conn) {
    auto count = [&](absl::string_view sql) {
      auto st = Prepare(conn, sql);
      st->setInt64(1, campaign_id);
      std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
      return rs->next() ? rs->getInt64(1) : 0;
    };
    const CampaignCounts counts = ReadCampaignCounts(conn, campaign_id);
    m.set_reach(counts.reach);
    for (const auto& [type, n] : counts.touchpoints_by_type) {
      auto* t = m.add_touchpoints_by_type();
      t->set_type(static_cast<handoff::v1::TouchpointType>(type));
      t->set_count(n);
    }
    m.set_leads_first_touched(count(kLeadsFirstTouched));
    {
      auto st = Prepare(conn, kHandoffCounts);
      st->setDouble(1, UnixSecondsOf(now));
      st->setInt64(2, campaign_id);
      std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
      if (rs->next()) {
        m.set_mqls(rs->getInt64(1));
        m.set_handed_off(rs->getInt64(2));
        m.set_accepted(rs->getInt64(3));
        m.set_sla_breaches(rs->getInt64(4));
      }
    }
    {
      auto st = Prepare(conn, kRejections);
      st->setInt64(1, campaign_id);
      std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
      while (rs->next()) {
        auto* r = m.add_rejected_by_reason();
        r->set_reason(static_cast<handoff::v1::RejectionReason>(rs->getInt(1)));
        r->set_count(rs->getInt64(2));
      }
    }
    return absl::OkStatus();
  }));
  const handoff::v1::Money& cost = campaign.actual_cost();
  *m.mutable_cost() = cost;
  *m.mutable_cost_per_lead() = CostPer(cost, m.leads_first_touched());
  *m.mutable_cost_per_mql() = CostPer(cost, m.mqls());
  // Revenue credited by the latest outcome of each of sales' deals, per currency.
  std::map<int, std::map<std::string, int64_t>> revenue;    // model -> currency -> minor
  std::map<int, std::map<std::string, int64_t>> expansion;  // the expansion part of it
  RETURN_IF_ERROR(pool_->WithConnection("campaign revenue", [&](sql::Connection& conn) {
    auto st = Prepare(conn, kAttributed);
    st->setInt64(1, campaign_id);
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    while (rs->next()) {
      revenue[rs->getInt(1)][rs->getString(2)] += rs->getInt64(3);
      if (rs->getInt(4) == handoff::v1::BUSINESS_TYPE_EXPANSION) {
        expansion[rs->getInt(1)][rs->getString(2)] += rs->getInt64(3);
      }
    }
    auto won = Prepare(conn, kWonDeals);
    won->setInt64(1, campaign_id);
    std::unique_ptr<sql::ResultSet> w(won->executeQuery());
    if (w->next()) m.set_won_deals(w->getInt64(1));
    return absl::OkStatus();
  }));
  for (v1::AttributionModel model :
       {v1::ATTRIBUTION_MODEL_FIRST_TOUCH, v1::ATTRIBUTION_MODEL_LAST_TOUCH,
        v1::ATTRIBUTION_MODEL_LINEAR}) {
    *m.add_revenue() = ReportRevenue(model, revenue[model], cost);
    *m.add_expansion_revenue() = ReportRevenue(model, expansion[model], cost);
  }
  return m;
}

absl::StatusOr<v1::FunnelStats> CampaignReports::FunnelStats(absl::Time start, absl::Time end,
                                                             int64_t campaign_id,
                                                             int64_t segment_id) {
  // Which leads count: "IN (SELECT l.lead_id FROM leads l WHERE <scope>)".
  std::string scope = "l.merged_into = 0";
  std::vector<common::SqlParam> scope_params;
  if (campaign_id != 0) {
    absl::StrAppend(&scope, " AND l.first_touch_campaign_id = ?");
    scope_params.push_back(campaign_id);
  }
  if (segment_id != 0) {
    ASSIGN_OR_RETURN(v1::Segment segment, segments_->Get(segment_id));
    AppendSegmentCriteria(segment.criteria(), &scope, &scope_params);
  }
  const bool scoped = campaign_id != 0 || segment_id != 0;
  // `sql` ranges `column` over [start, end), adds the condition `also` (whose
  // parameters `run` binds after the range's), and restricts `lead_column` to the
  // scope.
  auto query = [&](absl::string_view sql, absl::string_view column, absl::string_view lead_column,
                   absl::string_view also = "") {
    std::string text = absl::StrCat(sql, " WHERE ", column, " >= FROM_UNIXTIME(?) AND ", column,
                                    " < FROM_UNIXTIME(?)");
    if (!also.empty()) absl::StrAppend(&text, " AND ", also);
    if (scoped) {
      absl::StrAppend(&text, " AND ", lead_column, " IN (SELECT l.lead_id FROM leads l WHERE ",
                      scope, ")");
    }
    return text;
  };
  // The rows and the statement they came from (the rows must go first: see
  // statement_cache.h).
  struct Rows {
    common::Statement statement;
    std::unique_ptr<sql::ResultSet> rs;
    sql::ResultSet* operator->() const { return rs.get(); }
  };
  auto run = [&](sql::Connection& conn, const std::string& sql,
                 const std::vector<common::SqlParam>& also_params = {}) {
    Rows rows{Prepare(conn, sql), nullptr};
    std::vector<common::SqlParam> params = {UnixSecondsOf(start), UnixSecondsOf(end)};
    params.insert(params.end(), also_params.begin(), also_params.end());
    if (scoped) params.insert(params.end(), scope_params.begin(), scope_params.end());
    common::BindAll(*rows.statement, params);
    rows.rs.reset(rows.statement->executeQuery());
    return rows;
  };
  auto count = [&](sql::Connection& conn, const std::string& sql,
                   const std::vector<common::SqlParam>& also_params = {}) -> int64_t {
    auto rs = run(conn, sql, also_params);
    return rs->next() ? rs->getInt64(1) : 0;
  };
  const std::vector<common::SqlParam> by_end = {UnixSecondsOf(end)};
  // A count and a median in one pass: every row carries both window results; the
  // first row answers (none when nothing is in range).
  auto count_and_median = [&](sql::Connection& conn,
                              const std::string& sql) -> std::pair<int64_t, double> {
    auto rs = run(conn, sql + " LIMIT 1");
    if (!rs->next()) return {0, 0};
    return {rs->getInt64(1), rs->isNull(2) ? 0 : rs->getDouble(2)};
  };
  // Each reader fills its own variables; the medians sort every row in range, so
  // they run side by side.
  v1::FunnelStats stats;
  std::pair<int64_t, double> captured, handed_off,
      decided;            // (only the first reader writes `stats`)
  v1::FunnelStats leads;  // the distinct-lead counts, merged after the readers end
  RETURN_IF_ERROR(common::ReadInParallel(
      *pool_, "funnel stats",
      {
          [&](sql::Connection& conn) {
            stats.set_leads_captured(scoped ? count(conn, query("SELECT COUNT(*) FROM leads",
                                                                "created_at", "lead_id", kPerson))
                                            : LeadsCaptured(conn, start, end));
            stats.set_mqls(count(conn, query("SELECT COUNT(DISTINCT lead_id) FROM handoffs",
                                             "created_at", "lead_id")));
            auto rs = run(
                conn,
                query("SELECT rejection_reason, COUNT(*) FROM handoffs", "decided_at", "lead_id") +
                    absl::StrCat(" AND ", kRejected, " GROUP BY rejection_reason ORDER BY 1"));
            while (rs->next()) {
              auto* r = stats.add_rejected_by_reason();
              r->set_reason(static_cast<handoff::v1::RejectionReason>(rs->getInt(1)));
              r->set_count(rs->getInt64(2));
            }
            if (segment_id != 0) {
              // Sales knows nothing of segments: hand it the segment's people instead.
              auto st = Prepare(
                  conn,
                  absl::StrCat("SELECT DISTINCT lead_id FROM handoffs WHERE delivered_at IS NOT "
                               "NULL AND lead_id IN (SELECT l.lead_id FROM leads l WHERE ",
                               scope, ")"));
              common::BindAll(*st, scope_params);
              std::unique_ptr<sql::ResultSet> ids(st->executeQuery());
              while (ids->next()) stats.add_handed_off_lead_ids(ids->getInt64(1));
            }
          },
          [&](sql::Connection& conn) {
            // Every step in one unit, distinct leads; each conversion counts the
            // leads of the earlier step that made the later one by the range's end.
            leads.set_handed_off_leads(
                count(conn, query(kDistinctLeadsOfHandoffs, "delivered_at", "lead_id")));
            leads.set_accepted_leads(
                count(conn, query(kDistinctLeadsOfHandoffs, "decided_at", "lead_id", kAccepted)));
            leads.set_rehandoffs(
                count(conn, query(kHandoffsOfLeadsHandedOffBefore, "h.delivered_at", "h.lead_id",
                                  kHandedOffBefore)));
            leads.set_captured_then_qualified(
                count(conn,
                      query("SELECT COUNT(*) FROM leads", "created_at", "lead_id",
                            absl::StrCat(kPerson, " AND ", kQualifiedByEnd)),
                      by_end));
            leads.set_qualified_then_handed_off(count(
                conn, query(kDistinctLeadsOfHandoffs, "created_at", "lead_id", kDeliveredByEnd),
                by_end));
            leads.set_handed_off_then_accepted(count(
                conn, query(kDistinctLeadsOfHandoffs, "delivered_at", "lead_id", kAcceptedByEnd),
                by_end));
          },
          [&](sql::Connection& conn) {
            captured = count_and_median(
                conn, query("SELECT 0, MEDIAN(TIMESTAMPDIFF(MICROSECOND, lead_created_at, "
                            "created_at) / 1e6) OVER () FROM handoffs",
                            "created_at", "lead_id"));
          },
          [&](sql::Connection& conn) {
            handed_off = count_and_median(
                conn, query("SELECT COUNT(*) OVER (), MEDIAN(TIMESTAMPDIFF(MICROSECOND, "
                            "created_at, delivered_at) / 1e6) OVER () "
                            "FROM handoffs",
                            "delivered_at", "lead_id"));
          },
          [&](sql::Connection& conn) {
            decided = count_and_median(
                conn, query(absl::StrCat("SELECT SUM(", kAccepted,
                                         ") OVER (), MEDIAN(TIMESTAMPDIFF(MICROSECOND, "
                                         "delivered_at, decided_at) / 1e6) OVER () FROM handoffs"),
                            "decided_at", "lead_id"));
          },
      }));
  stats.MergeFrom(leads);
  stats.set_median_capture_to_mql_seconds(captured.second);
  stats.set_handed_off(handed_off.first);
  stats.set_median_mql_to_handoff_seconds(handed_off.second);
  stats.set_accepted(decided.first);
  stats.set_median_handoff_to_decision_seconds(decided.second);
  return stats;
}

}  // namespace funnel::marketing
