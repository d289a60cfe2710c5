#include "sales_service/report_store.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/median.h"
#include "common/mysql/idempotency.h"
#include "common/mysql/parallel_reads.h"
#include "common/mysql/params.h"
#include "common/mysql/sql_util.h"
#include "common/status.h"
#include "handoff/outbox.h"
#include "handoff/validation.h"
#include "sales_service/assignments.h"
#include "sales_service/directory_store.h"
#include "sales_service/rep_performance.h"
#include "sales_service/sla.h"
#include "sales_service/stage_sql.h"

namespace funnel::sales {
namespace {

using common::OptionalTime;
using common::Prepare;
using common::TimeFromUnixSeconds;
using common::UnixSecondsOf;

// A rep's deals closed in a quarter.
const std::string kClosedDealsOfRep = absl::StrCat(R"sql(
  SELECT stage, currency, amount_minor, UNIX_TIMESTAMP(closed_at) - UNIX_TIMESTAMP(created_at)
  FROM opportunities
  WHERE owner_rep_id = ? AND stage IN )sql",
                                                   kClosedStages, R"sql(
    AND closed_at >= FROM_UNIXTIME(?) AND closed_at < FROM_UNIXTIME(?))sql");
// A rep's open pipeline in one currency.
const std::string kOpenPipelineOfRep = absl::StrCat(
    "SELECT stage, probability_override, amount_minor FROM opportunities "
    "WHERE owner_rep_id = ? AND stage IN ",
    kOpenStages, " AND currency = ?");
// A rep's calls and meetings in a quarter.
const std::string kActivityCountsOfRep = absl::StrCat(
    "SELECT COALESCE(SUM(type = ", v1::ACTIVITY_TYPE_CALL,
    "), 0), COALESCE(SUM(type = ", v1::ACTIVITY_TYPE_MEETING,
    "), 0) FROM activities "
    "WHERE rep_id = ? AND occurred_at >= FROM_UNIXTIME(?) AND occurred_at < FROM_UNIXTIME(?)");

// Opportunities opened in [start, end), and those of them won by end (parameters:
// end, start, end).
const std::string kOpenedAndWonInRange =
    absl::StrCat("SELECT COUNT(*), COALESCE(SUM(stage = ", v1::STAGE_CLOSED_WON,
                 " AND closed_at < FROM_UNIXTIME(?)), 0) FROM opportunities "
                 "WHERE created_at >= FROM_UNIXTIME(?) AND created_at < FROM_UNIXTIME(?)");

// Every handoff's SLA times; AppendRepScope narrows it.
constexpr absl::string_view kUpsertQuota = R"sql(
  INSERT INTO quotas (rep_id, quarter, currency, target_minor, call_target, meeting_target)
  VALUES (?, ?, ?, ?, ?, ?)
  ON DUPLICATE KEY UPDATE currency = VALUES(currency), target_minor = VALUES(target_minor),
    call_target = VALUES(call_target), meeting_target = VALUES(meeting_target))sql";
constexpr absl::string_view kHandoffSlaFacts = R"sql(
  SELECT UNIX_TIMESTAMP(received_at), UNIX_TIMESTAMP(sla_deadline),
         UNIX_TIMESTAMP(first_response_at), UNIX_TIMESTAMP(decided_at), state
  FROM handoffs WHERE 1 = 1)sql";

// Restricts `column` (a rep id) to one rep, or a manager and their team.
void AppendRepScope(absl::string_view column, int64_t rep_id, int64_t manager_rep_id,
                    std::string* sql, std::vector<common::SqlParam>* params) {
  if (rep_id != 0) {
    absl::StrAppend(sql, " AND ", column, " = ?");
    params->push_back(rep_id);
  } else if (manager_rep_id != 0) {
    absl::StrAppend(sql, " AND (", column, " = ? OR ", column,
                    " IN (SELECT rep_id FROM reps WHERE manager_rep_id = ?))");
    params->push_back(manager_rep_id);
    params->push_back(manager_rep_id);
  }
}

}  // namespace

absl::StatusOr<v1::Quota> ReportStore::SetQuota(const v1::Quota& quota, const Caller& caller,
                                                const common::RequestKey& request_id) {
  return common::IdempotentTransaction<v1::Quota>(
      *pool_, "SetQuota", request_id, [&](sql::Connection& conn) -> absl::StatusOr<v1::Quota> {
        ASSIGN_OR_RETURN(v1::Rep rep, ReadRep(conn, quota.rep_id(), "quota.rep_id"));
        if (!IsManagerLike(caller)) {
          return common::WithReason(
              absl::PermissionDeniedError("quota: only a MANAGER sets quotas"),
              errors::v1::ROLE_NOT_ALLOWED);
        }
        RETURN_IF_ERROR(CheckCanChange(caller, rep.rep_id(), rep.manager_rep_id(),
                                       absl::StrCat("rep ", rep.rep_id(), "'s quota")));
        auto st = Prepare(conn, kUpsertQuota);
        st->setInt64(1, quota.rep_id());
        st->setString(2, quota.quarter());
        st->setString(3, quota.revenue_target().currency_code());
        st->setInt64(4, quota.revenue_target().amount_minor());
        st->setInt(5, quota.call_target());
        st->setInt(6, quota.meeting_target());
        st->executeUpdate();
        return quota;
      });
}

absl::StatusOr<v1::RepPerformance> ReportStore::RepPerformance(int64_t rep_id,
                                                               const std::string& quarter_text,
                                                               const Quarter& quarter,
                                                               const Caller& caller) {
  v1::RepPerformance perf;
  perf.set_rep_id(rep_id);
  perf.set_quarter(quarter_text);
  RETURN_IF_ERROR(
      pool_->WithConnection("rep performance", [&](sql::Connection& conn) -> absl::Status {
        ASSIGN_OR_RETURN(v1::Rep rep, ReadRep(conn, rep_id, "rep_id"));
        RETURN_IF_ERROR(CheckCanSeeRep(caller, rep_id, rep.manager_rep_id()));
        std::string currency;
        {
          auto st =
              Prepare(conn,
                      "SELECT currency, target_minor, call_target, meeting_target FROM quotas "
                      "WHERE rep_id = ? AND quarter = ?");
          st->setInt64(1, rep_id);
          st->setString(2, quarter_text);
          std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
          if (rs->next()) {
            v1::Quota* q = perf.mutable_quota();
            q->set_rep_id(rep_id);
            q->set_quarter(quarter_text);
            currency = rs->getString(1);
            q->mutable_revenue_target()->set_currency_code(currency);
            q->mutable_revenue_target()->set_amount_minor(rs->getInt64(2));
            q->set_call_target(rs->getInt(3));
            q->set_meeting_target(rs->getInt(4));
          }
        }
        // Deals closed in the quarter, then the open pipeline in the same currency.
        std::vector<ClosedDeal> closed;
        {
          auto st = Prepare(conn, kClosedDealsOfRep);
          st->setInt64(1, rep_id);
          st->setDouble(2, UnixSecondsOf(quarter.start));
          st->setDouble(3, UnixSecondsOf(quarter.end));
          std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
          while (rs->next()) {
            closed.push_back({static_cast<v1::Stage>(rs->getInt(1)), rs->getString(2),
                              rs->getInt64(3), static_cast<double>(rs->getDouble(4))});
          }
        }
        currency = AddClosedDeals(closed, &perf);
        {
          auto st = Prepare(conn, kOpenPipelineOfRep);
          st->setInt64(1, rep_id);
          st->setString(2, currency);
          std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
          std::vector<OpenDeal> open;
          while (rs->next()) {
            std::optional<int> override_percent;
            if (!rs->isNull(2)) override_percent = rs->getInt(2);
            open.push_back(
                {static_cast<v1::Stage>(rs->getInt(1)), override_percent, rs->getInt64(3)});
          }
          AddOpenPipeline(open, currency, &perf);
        }
        {
          auto st = Prepare(conn, kActivityCountsOfRep);
          st->setInt64(1, rep_id);
          st->setDouble(2, UnixSecondsOf(quarter.start));
          st->setDouble(3, UnixSecondsOf(quarter.end));
          std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
          if (rs->next()) {
            perf.set_calls(rs->getInt64(1));
            perf.set_meetings(rs->getInt64(2));
          }
        }
        AddHandoffResponses(ReadAssignmentSpans(conn, rep_id, quarter.start, quarter.end), &perf);
        return absl::OkStatus();
      }));
  return perf;
}

absl::StatusOr<v1::PipelineReport> ReportStore::Pipeline(int64_t rep_id, int64_t manager_rep_id,
                                                         absl::Time now) {
  v1::PipelineReport report;
  RETURN_IF_ERROR(
      pool_->WithConnection("pipeline report", [&](sql::Connection& conn) -> absl::Status {
        if (rep_id != 0) RETURN_IF_ERROR(ReadRep(conn, rep_id, "rep_id").status());
        if (manager_rep_id != 0)
          RETURN_IF_ERROR(ReadRep(conn, manager_rep_id, "manager_rep_id").status());
        std::vector<OpportunityFacts> facts;
        {
          std::string sql =
              "SELECT stage, probability_override, currency, amount_minor, source "
              "FROM opportunities WHERE 1 = 1";
          std::vector<common::SqlParam> params;
          AppendRepScope("owner_rep_id", rep_id, manager_rep_id, &sql, &params);
          auto st = Prepare(conn, sql);
          common::BindAll(*st, params);
          std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
          while (rs->next()) {
            OpportunityFacts f;
            f.stage = static_cast<v1::Stage>(rs->getInt(1));
            if (!rs->isNull(2)) f.probability_override = rs->getInt(2);
            f.currency = rs->getString(3);
            f.amount_minor = rs->getInt64(4);
            f.source = static_cast<v1::Source>(rs->getInt(5));
            facts.push_back(std::move(f));
          }
        }
        report = AggregatePipeline(facts);
        // Handoff SLA compliance.
        std::string sql(kHandoffSlaFacts);
        std::vector<common::SqlParam> params;
        AppendRepScope("assigned_rep_id", rep_id, manager_rep_id, &sql, &params);
        auto st = Prepare(conn, sql);
        common::BindAll(*st, params);
        std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
        v1::SlaCompliance* sla = report.mutable_sla();
        std::vector<double> first_response;
        while (rs->next()) {
          const absl::Time received = TimeFromUnixSeconds(rs->getDouble(1));
          const SlaFacts facts{TimeFromUnixSeconds(rs->getDouble(2)), OptionalTime(*rs, 3),
                               OptionalTime(*rs, 4), rs->getInt(5) == v1::HANDOFF_STATE_WITHDRAWN};
          if (facts.decided) {
            sla->set_decided(sla->decided() + 1);
            if (*facts.decided <= facts.deadline)
              sla->set_decided_within_sla(sla->decided_within_sla() + 1);
          }
          const SlaStatus status = EvaluateSla(facts, now);
          if (status.overdue) sla->set_overdue_now(sla->overdue_now() + 1);
          if (status.breached) sla->set_breached(sla->breached() + 1);
          if (status.responded) {
            sla->set_responded(sla->responded() + 1);
            if (!status.breached) sla->set_responded_within_sla(sla->responded_within_sla() + 1);
            first_response.push_back(absl::ToDoubleSeconds(*status.responded - received));
          }
        }
        sla->set_compliance(
            sla->decided() ? static_cast<double>(sla->decided_within_sla()) / sla->decided() : 0);
        sla->set_median_first_response_seconds(common::Median(first_response));
        return absl::OkStatus();
      }));
  return report;
}

namespace {

void AddMoney(google::protobuf::RepeatedPtrField<handoff::v1::Money>* list,
              const std::string& currency, int64_t amount) {
  for (auto& m : *list) {
    if (m.currency_code() == currency) {
      m.set_amount_minor(handoff::AddMinor(m.amount_minor(), amount));
      return;
    }
  }
  auto* m = list->Add();
  m->set_currency_code(currency);
  m->set_amount_minor(amount);
}

}  // namespace

absl::StatusOr<v1::FunnelStats> ReportStore::FunnelStats(
    absl::Time start, absl::Time end, int64_t campaign_id,
    const std::optional<std::vector<int64_t>>& lead_ids) {
  v1::FunnelStats stats;
  // Which opportunities count; its parameters follow the range in every query.
  std::string campaign;
  std::vector<common::SqlParam> scope_params;
  if (campaign_id != 0) {
    campaign = " AND campaign_id = ?";
    scope_params.push_back(campaign_id);
  }
  if (lead_ids) {
    if (lead_ids->empty()) {
      absl::StrAppend(&campaign, " AND FALSE");
    } else {
      absl::StrAppend(&campaign, " AND lead_id IN (", common::Placeholders(lead_ids->size(), "?"),
                      ")");
      for (int64_t id : *lead_ids) scope_params.push_back(id);
    }
  }
  const std::vector<common::SqlParam> range = {UnixSecondsOf(start), UnixSecondsOf(end)};
  // `head` (the range's parameters, or none) then the scope's.
  auto bind = [&](sql::PreparedStatement& st, std::vector<common::SqlParam> head) {
    head.insert(head.end(), scope_params.begin(), scope_params.end());
    common::BindAll(st, head);
  };
  // Two readers side by side; the second fills `other`, merged after both end.
  v1::FunnelStats other;
  RETURN_IF_ERROR(common::ReadInParallel(
      *pool_, "funnel stats",
      {
          [&](sql::Connection& conn) {
            {
              auto st = Prepare(conn, absl::StrCat(kOpenedAndWonInRange, campaign));
              bind(*st, {UnixSecondsOf(end), UnixSecondsOf(start), UnixSecondsOf(end)});
              std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
              if (rs->next()) {
                stats.set_opportunities(rs->getInt64(1));
                stats.set_opened_then_won(rs->getInt64(2));
              }
            }
            auto st = Prepare(
                conn,
                absl::StrCat("SELECT stage, currency, COUNT(*), SUM(amount_minor), business_type "
                             "FROM opportunities "
                             "WHERE stage IN ",
                             kClosedStages,
                             " AND closed_at >= FROM_UNIXTIME(?) AND closed_at < "
                             "FROM_UNIXTIME(?)",
                             campaign, " GROUP BY stage, currency, business_type"));
            bind(*st, range);
            std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
            while (rs->next()) {
              if (rs->getInt(1) == v1::STAGE_CLOSED_LOST) {
                stats.set_lost(stats.lost() + rs->getInt64(3));
                continue;
              }
              stats.set_won(stats.won() + rs->getInt64(3));
              AddMoney(stats.mutable_won_revenue(), rs->getString(2), rs->getInt64(4));
              AddMoney(rs->getInt(5) == handoff::v1::BUSINESS_TYPE_EXPANSION
                           ? stats.mutable_expansion_won_revenue()
                           : stats.mutable_new_business_won_revenue(),
                       rs->getString(2), rs->getInt64(4));
            }
          },
          [&](sql::Connection& conn) {
            {
              // The sales cycle of the deals won in range (one row; none when none won).
              auto st = Prepare(
                  conn,
                  absl::StrCat("SELECT MEDIAN(TIMESTAMPDIFF(MICROSECOND, created_at, closed_at) / "
                               "1e6) OVER () FROM opportunities WHERE stage = ",
                               v1::STAGE_CLOSED_WON,
                               " AND closed_at >= "
                               "FROM_UNIXTIME(?) AND closed_at < FROM_UNIXTIME(?)",
                               campaign, " LIMIT 1"));
              bind(*st, range);
              std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
              if (rs->next() && !rs->isNull(1))
                other.set_median_open_to_won_seconds(rs->getDouble(1));
            }
            auto st = Prepare(
                conn, absl::StrCat("SELECT source, currency, SUM(amount_minor), "
                                   "referrer_lead_id <> 0 AS referred FROM opportunities "
                                   "WHERE stage IN ",
                                   kOpenStages, campaign, " GROUP BY source, currency, referred"));
            bind(*st, {});
            std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
            while (rs->next()) {
              AddMoney(rs->getInt(1) == v1::SOURCE_MARKETING
                           ? other.mutable_marketing_sourced_pipeline()
                           : other.mutable_sales_sourced_pipeline(),
                       rs->getString(2), rs->getInt64(3));
              if (rs->getBoolean(4)) {
                AddMoney(other.mutable_referral_sourced_pipeline(), rs->getString(2),
                         rs->getInt64(3));
              }
            }
          },
      }));
  stats.MergeFrom(other);
  return stats;
}

absl::StatusOr<handoff::v1::RelayStats> ReportStore::RelayStats(absl::Time now) {
  handoff::v1::RelayStats stats;
  RETURN_IF_ERROR(pool_->WithConnection("relay stats", [&](sql::Connection& conn) {
    stats = handoff::ToRelayStatsProto(handoff::ReadOutboxStats(conn, now));
    return absl::OkStatus();
  }));
  return stats;
}

}  // namespace funnel::sales
