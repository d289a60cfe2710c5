#include "marketing_service/campaign_store.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <cmath>
#include <map>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/field_violations.h"
#include "common/mysql/idempotency.h"
#include "common/mysql/keyset_page.h"
#include "common/mysql/parallel_reads.h"
#include "common/mysql/params.h"
#include "common/mysql/sql_util.h"
#include "common/pagination.h"
#include "common/status.h"
#include "common/time_range.h"
#include "common/time_util.h"
#include "common/validation.h"
#include "funnel/handoff/v1/handoff.pb.h"
#include "handoff/validation.h"
#include "marketing_service/attribution.h"
#include "marketing_service/lead_rows.h"
#include "marketing_service/lifecycle.h"
#include "marketing_service/report_aggregates.h"

namespace funnel::marketing {
namespace {

using common::LastInsertId;
using common::Prepare;
using common::TimeFromUnixSeconds;
using common::ToProtoTime;
using common::UnixSecondsOf;

constexpr absl::string_view kCampaignColumns = R"sql(
  campaign_id, name, channel, target_segment_id, currency, budget_minor, cost_minor,
  start_at, end_at, state, version,
  UNIX_TIMESTAMP(created_at), UNIX_TIMESTAMP(updated_at))sql";

constexpr absl::string_view kInsertCampaign = R"sql(
  INSERT INTO campaigns (name, channel, target_segment_id, currency, budget_minor, cost_minor,
                         start_at, end_at, state)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?))sql";

constexpr absl::string_view kUpdateCampaign = R"sql(
  UPDATE campaigns SET name = ?, channel = ?, target_segment_id = ?, currency = ?,
    budget_minor = ?, cost_minor = ?, start_at = ?, end_at = ?,
    state = ?, version = version + 1, updated_at = CURRENT_TIMESTAMP(6)
  WHERE campaign_id = ?)sql";

constexpr absl::string_view kSegmentColumns =
    "segment_id, name, description, criteria, version, UNIX_TIMESTAMP(created_at)";
constexpr absl::string_view kInsertSegment =
    "INSERT INTO segments (name, description, criteria) VALUES (?, ?, ?)";

// Metrics (reach and touchpoints come from the counters, see report_aggregates.h).
constexpr absl::string_view kLeadsFirstTouched =
    "SELECT COUNT(*) FROM leads WHERE first_touch_campaign_id = ?";
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
  SELECT model, currency, SUM(amount_minor) FROM attributions
  WHERE campaign_id = ? GROUP BY model, currency)sql";
constexpr absl::string_view kWonDeals =
    "SELECT COUNT(DISTINCT handoff_id) FROM attributions WHERE campaign_id = ?";
// Funnel steps in distinct leads (FunnelStats); CampaignStore::FunnelStats ranges
// and scopes them.
constexpr absl::string_view kDistinctLeadsOfHandoffs =
    "SELECT COUNT(DISTINCT lead_id) FROM handoffs";
constexpr absl::string_view kHandoffsOfLeadsHandedOffBefore = R"sql(
  SELECT COUNT(*) FROM handoffs h)sql";
constexpr absl::string_view kHandedOffBefore = R"sql(
  EXISTS (SELECT 1 FROM handoffs e WHERE e.lead_id = h.lead_id AND e.created_at < h.created_at
            AND e.delivered_at IS NOT NULL))sql";
constexpr absl::string_view kQualifiedByEnd =
    "lead_id IN (SELECT q.lead_id FROM handoffs q WHERE q.created_at < FROM_UNIXTIME(?))";
constexpr absl::string_view kDeliveredByEnd =
    "delivered_at IS NOT NULL AND delivered_at < FROM_UNIXTIME(?)";
const std::string kAcceptedByEnd = absl::StrCat(kAccepted, " AND decided_at < FROM_UNIXTIME(?)");
const std::string kRejections = absl::StrCat(R"sql(
  SELECT rejection_reason, COUNT(*) FROM handoffs
  WHERE first_touch_campaign_id = ? AND )sql",
                                             kRejected, " GROUP BY rejection_reason ORDER BY 1");

handoff::v1::Money MoneyOf(const std::string& currency, int64_t minor) {
  handoff::v1::Money m;
  m.set_currency_code(currency);
  m.set_amount_minor(minor);
  return m;
}

v1::Campaign CampaignFromRow(sql::ResultSet& rs) {
  v1::Campaign c;
  c.set_campaign_id(rs.getInt64(1));
  c.set_name(rs.getString(2));
  c.set_channel(static_cast<v1::Channel>(rs.getInt(3)));
  c.set_target_segment_id(rs.getInt64(4));
  const std::string currency = rs.getString(5);
  *c.mutable_budget() = MoneyOf(currency, rs.getInt64(6));
  *c.mutable_actual_cost() = MoneyOf(currency, rs.getInt64(7));
  if (auto t = common::OptionalDatetime(rs, 8)) *c.mutable_start_time() = ToProtoTime(*t);
  if (auto t = common::OptionalDatetime(rs, 9)) *c.mutable_end_time() = ToProtoTime(*t);
  c.set_state(static_cast<v1::CampaignState>(rs.getInt(10)));
  c.set_etag(absl::StrCat(rs.getInt64(11)));
  *c.mutable_create_time() = ToProtoTime(TimeFromUnixSeconds(rs.getDouble(12)));
  *c.mutable_update_time() = ToProtoTime(TimeFromUnixSeconds(rs.getDouble(13)));
  return c;
}

v1::Segment SegmentFromRow(sql::ResultSet& rs) {
  v1::Segment s;
  s.set_segment_id(rs.getInt64(1));
  s.set_name(rs.getString(2));
  s.set_description(rs.getString(3));
  s.mutable_criteria()->ParseFromString(std::string(rs.getString(4)));
  s.set_etag(absl::StrCat(rs.getInt64(5)));
  *s.mutable_create_time() = ToProtoTime(TimeFromUnixSeconds(rs.getDouble(6)));
  return s;
}

void BindCampaign(sql::PreparedStatement& st, const v1::Campaign& c) {
  st.setString(1, c.name());
  st.setInt(2, c.channel());
  st.setInt64(3, c.target_segment_id());
  const std::string& currency = !c.budget().currency_code().empty()
                                    ? c.budget().currency_code()
                                    : c.actual_cost().currency_code();
  st.setString(4, currency);
  st.setInt64(5, c.budget().amount_minor());
  st.setInt64(6, c.actual_cost().amount_minor());
  auto time_of = [](bool has, const google::protobuf::Timestamp& t) {
    return has ? std::optional<absl::Time>(common::FromProtoTime(t)) : std::nullopt;
  };
  common::SetOptionalDatetime(st, 7, time_of(c.has_start_time(), c.start_time()));
  common::SetOptionalDatetime(st, 8, time_of(c.has_end_time(), c.end_time()));
  st.setInt(9, c.state());
}

absl::Status CheckSegmentExists(sql::Connection& conn, int64_t segment_id) {
  if (segment_id == 0) return absl::OkStatus();
  auto st = Prepare(conn, "SELECT 1 FROM segments WHERE segment_id = ?");
  st->setInt64(1, segment_id);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  if (!rs->next()) {
    return absl::NotFoundError(
        absl::StrCat("campaign.target_segment_id: segment ", segment_id, " not found"));
  }
  return absl::OkStatus();
}

// Rounds a / b to the nearest integer (b > 0).
int64_t DivideRounded(int64_t a, int64_t b) { return (a + b / 2) / b; }

}  // namespace

absl::Status ValidateCampaign(const v1::Campaign& c) {
  common::FieldViolations v;
  if (c.name().empty()) v.Add("campaign.name", "required");
  if (c.name().size() > 200) v.Add("campaign.name", "longer than 200 characters");
  if (c.channel() == v1::CHANNEL_UNSPECIFIED || !v1::Channel_IsValid(c.channel())) {
    v.Add("campaign.channel", "required");
  }
  if (c.target_segment_id() < 0) v.Add("campaign.target_segment_id", "must not be negative");
  v.Check(handoff::ValidateMoney(c.budget(), "campaign.budget"));
  v.Check(handoff::ValidateMoney(c.actual_cost(), "campaign.actual_cost"));
  if (!c.budget().currency_code().empty() && !c.actual_cost().currency_code().empty() &&
      c.budget().currency_code() != c.actual_cost().currency_code()) {
    v.Add("campaign.actual_cost.currency_code", "must match the budget's currency");
  }
  absl::Status start = c.has_start_time()
                           ? common::RequireDatetime(c.start_time(), "campaign.start_time")
                           : absl::OkStatus();
  absl::Status end = c.has_end_time() ? common::RequireDatetime(c.end_time(), "campaign.end_time")
                                      : absl::OkStatus();
  v.Check(start);
  v.Check(end);
  if (c.has_start_time() && c.has_end_time() && start.ok() && end.ok() &&
      common::FromProtoTime(c.end_time()) < common::FromProtoTime(c.start_time())) {
    v.Add("campaign.end_time", "before start_time");
  }
  return v.status();
}

absl::StatusOr<v1::Campaign> CampaignStore::Create(const v1::Campaign& campaign,
                                                   const common::RequestKey& request_id) {
  return common::IdempotentTransaction<v1::Campaign>(
      *pool_, "CreateCampaign", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::Campaign> {
        RETURN_IF_ERROR(CheckSegmentExists(conn, campaign.target_segment_id()));
        v1::Campaign draft = campaign;
        draft.set_state(v1::CAMPAIGN_STATE_DRAFT);
        auto st = Prepare(conn, kInsertCampaign);
        BindCampaign(*st, draft);
        st->executeUpdate();
        const int64_t id = LastInsertId(conn);
        auto get = Prepare(conn, absl::StrCat("SELECT ", kCampaignColumns,
                                              " FROM campaigns WHERE campaign_id = ?"));
        get->setInt64(1, id);
        std::unique_ptr<sql::ResultSet> rs(get->executeQuery());
        rs->next();
        return CampaignFromRow(*rs);
      });
}

absl::StatusOr<v1::Campaign> CampaignStore::Get(int64_t campaign_id) {
  v1::Campaign campaign;
  RETURN_IF_ERROR(pool_->WithConnection("get campaign", [&](sql::Connection& conn) -> absl::Status {
    auto st = Prepare(
        conn, absl::StrCat("SELECT ", kCampaignColumns, " FROM campaigns WHERE campaign_id = ?"));
    st->setInt64(1, campaign_id);
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    if (!rs->next())
      return absl::NotFoundError(absl::StrCat("campaign ", campaign_id, " not found"));
    campaign = CampaignFromRow(*rs);
    return absl::OkStatus();
  }));
  return campaign;
}

absl::StatusOr<v1::ListCampaignsResponse> CampaignStore::List(v1::CampaignState state,
                                                              v1::Channel channel, int page_size,
                                                              const std::string& page_token) {
  common::KeysetQuery query(kCampaignColumns, "campaigns", "campaign_id");
  if (state != v1::CAMPAIGN_STATE_UNSPECIFIED) query.Where("state = ?", int64_t{state});
  if (channel != v1::CHANNEL_UNSPECIFIED) query.Where("channel = ?", int64_t{channel});
  return query.Page(*pool_, absl::StrCat("campaigns:", state, ":", channel), page_token, page_size,
                    &CampaignFromRow, &v1::ListCampaignsResponse::mutable_campaigns,
                    &v1::Campaign::campaign_id);
}

absl::StatusOr<v1::Campaign> CampaignStore::Update(const v1::Campaign& campaign,
                                                   const std::vector<std::string>& paths,
                                                   const common::RequestKey& request_id) {
  return common::IdempotentTransaction<v1::Campaign>(
      *pool_, "UpdateCampaign", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::Campaign> {
        auto select =
            Prepare(conn, absl::StrCat("SELECT ", kCampaignColumns,
                                       " FROM campaigns WHERE campaign_id = ? FOR UPDATE"));
        select->setInt64(1, campaign.campaign_id());
        std::unique_ptr<sql::ResultSet> rs(select->executeQuery());
        if (!rs->next()) {
          return absl::NotFoundError(
              absl::StrCat("campaign ", campaign.campaign_id(), " not found"));
        }
        v1::Campaign current = CampaignFromRow(*rs);
        RETURN_IF_ERROR(
            common::CheckEtag(campaign.etag(), current.etag(), "campaign.etag", "campaign"));
        v1::Campaign next = current;
        for (const std::string& path : paths) {
          if (path == "name") next.set_name(campaign.name());
          if (path == "channel") next.set_channel(campaign.channel());
          if (path == "target_segment_id") next.set_target_segment_id(campaign.target_segment_id());
          if (path == "budget") *next.mutable_budget() = campaign.budget();
          if (path == "actual_cost") *next.mutable_actual_cost() = campaign.actual_cost();
          if (path == "start_time") *next.mutable_start_time() = campaign.start_time();
          if (path == "end_time") *next.mutable_end_time() = campaign.end_time();
          if (path == "state") next.set_state(campaign.state());
        }
        RETURN_IF_ERROR(CheckCampaignTransition(current.state(), next.state()));
        RETURN_IF_ERROR(ValidateCampaign(next));
        if (next.target_segment_id() != current.target_segment_id()) {
          RETURN_IF_ERROR(CheckSegmentExists(conn, next.target_segment_id()));
        }
        auto st = Prepare(conn, kUpdateCampaign);
        BindCampaign(*st, next);
        st->setInt64(10, next.campaign_id());
        st->executeUpdate();
        auto get = Prepare(conn, absl::StrCat("SELECT ", kCampaignColumns,
                                              " FROM campaigns WHERE campaign_id = ?"));
        get->setInt64(1, next.campaign_id());
        std::unique_ptr<sql::ResultSet> after(get->executeQuery());
        after->next();
        return CampaignFromRow(*after);
      });
}

absl::StatusOr<v1::CampaignMetrics> CampaignStore::Metrics(int64_t campaign_id, absl::Time now) {
  ASSIGN_OR_RETURN(v1::Campaign campaign, Get(campaign_id));
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
  const std::string& currency = cost.currency_code();
  *m.mutable_cost_per_lead() =
      MoneyOf(currency, m.leads_first_touched() > 0
                            ? DivideRounded(cost.amount_minor(), m.leads_first_touched())
                            : 0);
  *m.mutable_cost_per_mql() =
      MoneyOf(currency, m.mqls() > 0 ? DivideRounded(cost.amount_minor(), m.mqls()) : 0);
  // Revenue credited by the latest outcome of each of sales' deals, per currency.
  std::map<int, std::map<std::string, int64_t>> revenue;  // model -> currency -> minor
  RETURN_IF_ERROR(pool_->WithConnection("campaign revenue", [&](sql::Connection& conn) {
    auto st = Prepare(conn, kAttributed);
    st->setInt64(1, campaign_id);
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    while (rs->next()) revenue[rs->getInt(1)][rs->getString(2)] = rs->getInt64(3);
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
  }
  return m;
}

absl::StatusOr<v1::FunnelStats> CampaignStore::FunnelStats(absl::Time start, absl::Time end,
                                                           int64_t campaign_id,
                                                           int64_t segment_id) {
  // Which leads count: "IN (SELECT l.lead_id FROM leads l WHERE <scope>)".
  std::string scope = "1 = 1";
  std::vector<common::SqlParam> scope_params;
  if (campaign_id != 0) {
    absl::StrAppend(&scope, " AND l.first_touch_campaign_id = ?");
    scope_params.push_back(campaign_id);
  }
  if (segment_id != 0) {
    ASSIGN_OR_RETURN(v1::Segment segment, GetSegment(segment_id));
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
            stats.set_leads_captured(
                scoped ? count(conn, query("SELECT COUNT(*) FROM leads", "created_at", "lead_id"))
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
            leads.set_captured_then_qualified(count(
                conn, query("SELECT COUNT(*) FROM leads", "created_at", "lead_id", kQualifiedByEnd),
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

absl::StatusOr<v1::Segment> CampaignStore::CreateSegment(const v1::Segment& segment,
                                                         const common::RequestKey& request_id) {
  return common::IdempotentTransaction<v1::Segment>(
      *pool_, "CreateSegment", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::Segment> {
        auto st = Prepare(conn, kInsertSegment);
        st->setString(1, segment.name());
        st->setString(2, segment.description());
        std::istringstream blob(segment.criteria().SerializeAsString());
        st->setBlob(3, &blob);
        try {
          st->executeUpdate();
        } catch (const sql::SQLException& e) {
          if (e.getErrorCode() == 1062) {
            return absl::AlreadyExistsError(
                absl::StrCat("segment.name: a segment named '", segment.name(), "' exists"));
          }
          throw;
        }
        auto get = Prepare(
            conn, absl::StrCat("SELECT ", kSegmentColumns, " FROM segments WHERE segment_id = ?"));
        get->setInt64(1, LastInsertId(conn));
        std::unique_ptr<sql::ResultSet> rs(get->executeQuery());
        rs->next();
        return SegmentFromRow(*rs);
      });
}

absl::StatusOr<v1::Segment> CampaignStore::GetSegment(int64_t segment_id) {
  v1::Segment segment;
  RETURN_IF_ERROR(pool_->WithConnection("get segment", [&](sql::Connection& conn) -> absl::Status {
    auto st = Prepare(
        conn, absl::StrCat("SELECT ", kSegmentColumns, " FROM segments WHERE segment_id = ?"));
    st->setInt64(1, segment_id);
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    if (!rs->next()) return absl::NotFoundError(absl::StrCat("segment ", segment_id, " not found"));
    segment = SegmentFromRow(*rs);
    return absl::OkStatus();
  }));
  return segment;
}

absl::StatusOr<v1::ListSegmentsResponse> CampaignStore::ListSegments(
    int page_size, const std::string& page_token) {
  return common::KeysetQuery(kSegmentColumns, "segments", "segment_id")
      .Page(*pool_, "segments", page_token, page_size, &SegmentFromRow,
            &v1::ListSegmentsResponse::mutable_segments, &v1::Segment::segment_id);
}

}  // namespace funnel::marketing
