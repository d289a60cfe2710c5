#include "marketing_service/scoring_store.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <algorithm>
#include <map>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/mysql/idempotency.h"
#include "common/mysql/params.h"
#include "common/mysql/sql_util.h"
#include "common/mysql/statement_cache.h"
#include "common/status.h"
#include "common/time_util.h"
#include "common/validation.h"
#include "funnel/handoff/v1/handoff.pb.h"
#include "marketing_service/scoring.h"

namespace funnel::marketing {
namespace {

constexpr absl::string_view kSelect =
    "SELECT policy, version, UNIX_TIMESTAMP(updated_at) FROM scoring_policy WHERE id = 1";
constexpr absl::string_view kSelectForUpdate =
    "SELECT policy, version, UNIX_TIMESTAMP(updated_at) FROM scoring_policy WHERE id = 1 FOR "
    "UPDATE";
constexpr absl::string_view kUpdate =
    "UPDATE scoring_policy SET policy = ?, version = version + 1, updated_at = "
    "CURRENT_TIMESTAMP(6) "
    "WHERE id = 1";

// Closed-loop outcomes: handoffs made in [?, ?) whose deal was won or lost
// (outcome IN (?, ?)) or that sales rejected (decision = ?), of leads not erased.
constexpr absl::string_view kOutcomeWhere = R"sql(
  WHERE h.created_at >= FROM_UNIXTIME(?) AND h.created_at < FROM_UNIXTIME(?)
    AND l.erased = FALSE AND (h.outcome IN (?, ?) OR h.decision = ?))sql";
// Each with its lead's fit attributes, and whether it was won (outcome = ?).
const std::string kOutcomes = absl::StrCat(
    "SELECT h.handoff_id, h.lead_id, l.industry, l.region, l.company_size, h.outcome = ? "
    "FROM handoffs h JOIN leads l ON l.lead_id = h.lead_id",
    kOutcomeWhere);
// Per outcome of the leads with ids in [?, ?] and touchpoint type: the touches
// before the handoff, each decayed by half per half-life (? seconds, bound first)
// from its time to the handoff's. Joined in this order (handoffs, then each lead's
// touchpoints by index), never from the touchpoints table, which is ten times the
// leads: that plan spent over a minute of MariaDB's CPU per call on the bench's
// volume.
const std::string kOutcomeTouches = absl::StrCat(
    "SELECT STRAIGHT_JOIN h.handoff_id, t.type, SUM(POW(0.5, (UNIX_TIMESTAMP(h.created_at) - "
    "UNIX_TIMESTAMP(t.occurred_at)) / ?)) "
    "FROM handoffs h JOIN leads l ON l.lead_id = h.lead_id "
    "JOIN touchpoints t ON t.lead_id = h.lead_id AND t.occurred_at <= h.created_at",
    kOutcomeWhere, " AND h.lead_id BETWEEN ? AND ? GROUP BY h.handoff_id, t.type");
// Outcomes whose touches one statement reads: each statement stays well within
// the connection's socket timeout whatever the volume.
constexpr size_t kOutcomesPerStatement = 5000;

}  // namespace

v1::ScoringPolicy LoadPolicy(sql::Connection& conn, bool for_update) {
  auto st = common::Prepare(conn, for_update ? kSelectForUpdate : kSelect);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  v1::ScoringPolicy policy = DefaultScoringPolicy();
  if (!rs->next()) return policy;
  if (!rs->isNull(1)) policy.ParseFromString(std::string(rs->getString(1)));
  policy.set_etag(absl::StrCat(rs->getInt64(2)));
  *policy.mutable_update_time() =
      common::ToProtoTime(common::TimeFromUnixSeconds(rs->getDouble(3)));
  return policy;
}

absl::StatusOr<v1::ScoringPolicy> ScoringStore::Get() {
  v1::ScoringPolicy policy;
  absl::Status status = pool_->WithConnection("get scoring policy", [&](sql::Connection& conn) {
    policy = LoadPolicy(conn);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return policy;
}

absl::StatusOr<v1::ScoringPolicy> ScoringStore::Update(const v1::ScoringPolicy& policy,
                                                       const std::string& expected_etag,
                                                       const common::RequestKey& request_id) {
  return common::IdempotentTransaction<v1::ScoringPolicy>(
      *pool_, "UpdateScoringPolicy", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::ScoringPolicy> {
        v1::ScoringPolicy current = LoadPolicy(conn, /*for_update=*/true);
        RETURN_IF_ERROR(
            common::CheckEtag(expected_etag, current.etag(), "policy.etag", "scoring policy"));
        v1::ScoringPolicy stored = policy;
        stored.clear_etag();
        stored.clear_update_time();
        auto st = common::Prepare(conn, kUpdate);
        std::istringstream blob(stored.SerializeAsString());
        st->setBlob(1, &blob);
        st->executeUpdate();
        return LoadPolicy(conn);
      });
}

absl::StatusOr<std::vector<CalibrationOutcome>> ScoringStore::Outcomes(
    const common::TimeRange& range, double half_life_days) {
  // No decay is a half-life too long for any age to matter.
  const double half_life_seconds = half_life_days > 0 ? half_life_days * 86400 : 1e18;
  const std::vector<common::SqlParam> handoffs = {
      common::UnixSecondsOf(range.start), common::UnixSecondsOf(range.end),
      int64_t{handoff::v1::OUTCOME_WON}, int64_t{handoff::v1::OUTCOME_LOST},
      int64_t{handoff::v1::DECISION_REJECTED}};
  std::vector<CalibrationOutcome> outcomes;
  // One snapshot for both reads, so an outcome and its touches agree; the body is
  // run again from the start should the transaction be.
  RETURN_IF_ERROR(pool_->InTransaction("calibration outcomes", [&](sql::Connection& conn) {
    outcomes.clear();
    std::map<std::string, size_t> index;  // handoff id -> its outcome
    {
      auto st = common::Prepare(conn, kOutcomes);
      std::vector<common::SqlParam> params = {int64_t{handoff::v1::OUTCOME_WON}};
      params.insert(params.end(), handoffs.begin(), handoffs.end());
      common::BindAll(*st, params);
      std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
      while (rs->next()) {
        index[rs->getString(1)] = outcomes.size();
        CalibrationOutcome& o = outcomes.emplace_back();
        o.lead_id = rs->getInt64(2);
        o.industry = rs->getString(3);
        o.region = rs->getString(4);
        o.company_size = rs->getInt(5);
        o.won = rs->getBoolean(6);
        o.decayed_touches.assign(handoff::v1::TouchpointType_MAX + 1, 0);
      }
    }
    std::vector<int64_t> leads;
    for (const CalibrationOutcome& o : outcomes) leads.push_back(o.lead_id);
    std::sort(leads.begin(), leads.end());
    leads.erase(std::unique(leads.begin(), leads.end()), leads.end());
    for (size_t first = 0; first < leads.size(); first += kOutcomesPerStatement) {
      const size_t last = std::min(leads.size(), first + kOutcomesPerStatement) - 1;
      auto st = common::Prepare(conn, kOutcomeTouches);
      std::vector<common::SqlParam> params = {half_life_seconds};
      params.insert(params.end(), handoffs.begin(), handoffs.end());
      params.insert(params.end(), {leads[first], leads[last]});
      common::BindAll(*st, params);
      std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
      while (rs->next()) {
        auto it = index.find(rs->getString(1));
        const int type = rs->getInt(2);
        if (it == index.end() || type <= 0 || type > handoff::v1::TouchpointType_MAX) continue;
        outcomes[it->second].decayed_touches[type] = rs->getDouble(3);
      }
    }
    return absl::OkStatus();
  }));
  return outcomes;
}

}  // namespace funnel::marketing
