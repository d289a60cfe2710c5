#include "marketing_service/feedback_store.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/mysql/params.h"
#include "common/mysql/sql_util.h"
#include "common/status.h"
#include "common/time_util.h"
#include "handoff/inbox.h"
#include "marketing_service/attribution.h"
#include "marketing_service/lead_rules.h"
#include "marketing_service/leads/lead_rows.h"
#include "marketing_service/scoring_store.h"

namespace funnel::marketing {
namespace {

using common::Prepare;
using common::UnixSecondsOf;

constexpr absl::string_view kLockHandoff = R"sql(
  SELECT lead_id, first_touch_campaign_id, last_touch_campaign_id, outcome_revision,
         business_type
  FROM handoffs WHERE handoff_id = ? FOR UPDATE)sql";
constexpr absl::string_view kSaveDecision = R"sql(
  UPDATE handoffs SET decision = ?, rejection_reason = ?, decided_at = FROM_UNIXTIME(?),
    delivered_at = COALESCE(delivered_at, FROM_UNIXTIME(?))
  WHERE handoff_id = ?)sql";
constexpr absl::string_view kSaveOutcome =
    "UPDATE handoffs SET outcome = ?, outcome_revision = ? WHERE handoff_id = ?";
// The bound is compared in SQL: a round trip through a double can shave a
// microsecond and drop the touch that qualified the lead.
// An expansion handoff counts only the touches since the customer's last win.
constexpr absl::string_view kTouchesBeforeHandoff = R"sql(
  SELECT t.campaign_id FROM touchpoints t JOIN handoffs h ON h.handoff_id = ?
  WHERE t.lead_id = ? AND t.campaign_id <> 0 AND t.occurred_at <= h.created_at
    AND (h.touches_since IS NULL OR t.occurred_at >= h.touches_since)
  ORDER BY t.occurred_at, t.touchpoint_id)sql";
constexpr absl::string_view kRetractAttributions = "DELETE FROM attributions WHERE handoff_id = ?";
constexpr absl::string_view kInsertAttribution = R"sql(
  INSERT INTO attributions (event_id, handoff_id, campaign_id, model, currency, amount_minor,
                            business_type)
  VALUES (?, ?, ?, ?, ?, ?, ?))sql";
// What sales gave back on accepting: where the person's business is.
constexpr absl::string_view kSaveSalesIds =
    "UPDATE leads SET sales_account_id = ?, sales_contact_id = ? WHERE lead_id = ?";
// When the person became a customer: set by a win of new business, withdrawn by its
// correction (an expansion's outcome leaves it).
constexpr absl::string_view kSaveWonAt =
    "UPDATE leads SET won_at = FROM_UNIXTIME(?) WHERE lead_id = ?";
constexpr absl::string_view kClearWonAt = "UPDATE leads SET won_at = NULL WHERE lead_id = ?";
constexpr absl::string_view kMarkDelivered = R"sql(
  UPDATE handoffs SET delivered_at = COALESCE(delivered_at, NOW(6)),
    sla_deadline = FROM_UNIXTIME(?) WHERE handoff_id = ?)sql";

struct HandoffFacts {
  int64_t lead_id;
  int64_t first_touch_campaign_id;
  int64_t last_touch_campaign_id;
  std::optional<int64_t> outcome_revision;  // none before the first outcome
  bool expansion = false;
};

absl::StatusOr<HandoffFacts> LockHandoff(sql::Connection& conn, const std::string& handoff_id) {
  auto st = Prepare(conn, kLockHandoff);
  st->setString(1, handoff_id);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  if (!rs->next())
    return absl::NotFoundError(absl::StrCat("handoff_id: handoff ", handoff_id, " not found"));
  HandoffFacts facts{rs->getInt64(1), rs->getInt64(2), rs->getInt64(3), std::nullopt};
  if (!rs->isNull(4)) facts.outcome_revision = rs->getInt64(4);
  facts.expansion = rs->getInt(5) == handoff::v1::BUSINESS_TYPE_EXPANSION;
  return facts;
}

// Credits the campaigns that touched the lead before the handoff with a won deal,
// replacing whatever an earlier revision of the deal's outcome credited.
void CreditCampaigns(sql::Connection& conn, const HandoffFacts& handoff,
                     const handoff::v1::DealOutcome& o) {
  auto retract = Prepare(conn, kRetractAttributions);
  retract->setString(1, o.handoff_id());
  retract->executeUpdate();
  if (o.outcome() != handoff::v1::OUTCOME_WON) return;
  std::vector<int64_t> touches;
  auto st = Prepare(conn, kTouchesBeforeHandoff);
  st->setString(1, o.handoff_id());
  st->setInt64(2, handoff.lead_id);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  while (rs->next()) touches.push_back(rs->getInt64(1));
  for (const Credit& c : Attribute(o.amount().amount_minor(), handoff.first_touch_campaign_id,
                                   handoff.last_touch_campaign_id, touches)) {
    auto insert = Prepare(conn, kInsertAttribution);
    insert->setString(1, o.event_id());
    insert->setString(2, o.handoff_id());
    insert->setInt64(3, c.campaign_id);
    insert->setInt(4, c.model);
    insert->setString(5, o.amount().currency_code());
    insert->setInt64(6, c.amount_minor);
    insert->setInt(7, handoff.expansion ? handoff::v1::BUSINESS_TYPE_EXPANSION
                                        : handoff::v1::BUSINESS_TYPE_NEW);
    insert->executeUpdate();
  }
}

std::string OutcomeHistoryDetail(v1::LeadStage before, const v1::Lead& after,
                                 const handoff::v1::DealOutcome& o) {
  std::string detail =
      absl::StrCat(v1::LeadStage_Name(before), " -> ", v1::LeadStage_Name(after.stage()));
  switch (o.outcome()) {
    case handoff::v1::OUTCOME_WON:
      absl::StrAppend(&detail, "; ", o.amount().amount_minor(), " ", o.amount().currency_code());
      break;
    case handoff::v1::OUTCOME_LOST:
      absl::StrAppend(&detail, "; ", handoff::v1::LossReason_Name(o.loss_reason()));
      break;
    default:
      absl::StrAppend(&detail, "; opportunity ", o.opportunity_id(), " reopened");
      break;
  }
  if (o.revision() != 0) absl::StrAppend(&detail, " (revision ", o.revision(), ")");
  return detail;
}

v1::HistoryAction OutcomeHistoryAction(handoff::v1::Outcome outcome) {
  switch (outcome) {
    case handoff::v1::OUTCOME_WON:
      return v1::HISTORY_ACTION_WON;
    case handoff::v1::OUTCOME_LOST:
      return v1::HISTORY_ACTION_LOST;
    default:
      return v1::HISTORY_ACTION_DEAL_REOPENED;
  }
}

// The lead's current handoff, if this event is about it; a decision on an older
// handoff (superseded by a later qualification) only updates that handoff's record.
absl::StatusOr<std::optional<LeadRow>> CurrentLead(sql::Connection& conn, int64_t lead_id,
                                                   const std::string& handoff_id) {
  ASSIGN_OR_RETURN(LeadRow row, LockLeadById(conn, lead_id));
  if (row.lead.handoff_id() != handoff_id) return std::optional<LeadRow>();
  return std::optional<LeadRow>(std::move(row));
}

}  // namespace

absl::StatusOr<handoff::v1::ReportDecisionResponse> FeedbackStore::ApplyDecision(
    const handoff::v1::HandoffDecision& d, absl::Time now) {
  return handoff::ApplyEventOnce<handoff::v1::ReportDecisionResponse>(
      *pool_, "apply decision", d.event_id(), handoff::EventKind::kHandoffDecision,
      [&](sql::Connection& conn, handoff::v1::ReportDecisionResponse&) -> absl::Status {
        ASSIGN_OR_RETURN(HandoffFacts handoff, LockHandoff(conn, d.handoff_id()));
        const bool accepted = d.decision() == handoff::v1::DECISION_ACCEPTED;
        auto st = Prepare(conn, kSaveDecision);
        st->setInt(1, d.decision());
        st->setInt(2, d.rejection_reason());
        const double decided = d.has_decide_time()
                                   ? UnixSecondsOf(common::FromProtoTime(d.decide_time()))
                                   : UnixSecondsOf(now);
        st->setDouble(3, decided);
        st->setDouble(4, decided);
        st->setString(5, d.handoff_id());
        st->executeUpdate();
        ASSIGN_OR_RETURN(std::optional<LeadRow> row,
                         CurrentLead(conn, handoff.lead_id, d.handoff_id()));
        if (row && accepted && d.account_id() != 0) {
          common::ExecuteWith(conn, kSaveSalesIds,
                              {d.account_id(), d.contact_id(), row->lead.lead_id()});
          row->lead.set_sales_account_id(d.account_id());
          row->lead.set_sales_contact_id(d.contact_id());
        }
        if (row && DecisionMovesLead(row->lead)) {
          const std::string actor = absl::StrCat("sales rep ", d.decided_by_rep_id());
          if (accepted) {
            AddHistory(conn, row->lead.lead_id(), actor, v1::HISTORY_ACTION_SALES_ACCEPTED,
                       absl::StrCat(v1::LeadStage_Name(row->lead.stage()),
                                    " -> SALES_ACCEPTED; opportunity ", d.opportunity_id()),
                       now);
            row->lead.set_stage(v1::LEAD_STAGE_SALES_ACCEPTED);
          } else {
            const v1::ScoringPolicy policy = LoadPolicy(conn);
            row->engagement = Engagement{
                RecycledEngagement(policy.warm_threshold(), FitPoints(policy, row->lead.contact())),
                now};
            Rescore(policy, *row, now);
            // A customer whose expansion sales turns down stays a customer.
            const v1::LeadStage back =
                handoff.expansion ? v1::LEAD_STAGE_CUSTOMER : v1::LEAD_STAGE_RECYCLED;
            AddHistory(conn, row->lead.lead_id(), actor, v1::HISTORY_ACTION_RECYCLED,
                       absl::StrCat(v1::LeadStage_Name(row->lead.stage()), " -> ",
                                    v1::LeadStage_Name(back), "; ",
                                    handoff::v1::RejectionReason_Name(d.rejection_reason()),
                                    d.note().empty() ? "" : absl::StrCat("; ", d.note())),
                       now);
            row->lead.set_stage(back);
            row->lead.set_recycle_reason(d.rejection_reason());
          }
          SaveLead(conn, *row, now);
        }
        return absl::OkStatus();
      });
}

absl::StatusOr<handoff::v1::ReportOutcomeResponse> FeedbackStore::ApplyOutcome(
    const handoff::v1::DealOutcome& o, absl::Time now) {
  return handoff::ApplyEventOnce<handoff::v1::ReportOutcomeResponse>(
      *pool_, "apply outcome", o.event_id(), handoff::EventKind::kDealOutcome,
      [&](sql::Connection& conn, handoff::v1::ReportOutcomeResponse& response) -> absl::Status {
        ASSIGN_OR_RETURN(HandoffFacts handoff, LockHandoff(conn, o.handoff_id()));
        if (!SupersedesOutcome(handoff.outcome_revision, o.revision())) {
          // A later revision is already applied (the relay retried this one late).
          response.set_stale(true);
          return absl::OkStatus();
        }
        auto save = Prepare(conn, kSaveOutcome);
        save->setInt(1, o.outcome());
        save->setInt64(2, o.revision());
        save->setString(3, o.handoff_id());
        save->executeUpdate();
        CreditCampaigns(conn, handoff, o);
        ASSIGN_OR_RETURN(LeadRow row, LockLeadById(conn, handoff.lead_id));
        const v1::LeadStage before = ApplyOutcomeToLead(row.lead, o, handoff.expansion);
        if (o.outcome() == handoff::v1::OUTCOME_WON) {
          const absl::Time closed =
              o.has_close_time() ? common::FromProtoTime(o.close_time()) : now;
          common::ExecuteWith(conn, kSaveWonAt, {UnixSecondsOf(closed), row.lead.lead_id()});
          *row.lead.mutable_won_time() = common::ToProtoTime(closed);
        } else if (!handoff.expansion) {
          common::ExecuteWith(conn, kClearWonAt, {row.lead.lead_id()});
          row.lead.clear_won_time();
        }
        AddHistory(conn, row.lead.lead_id(), "sales", OutcomeHistoryAction(o.outcome()),
                   OutcomeHistoryDetail(before, row.lead, o), now);
        SaveLead(conn, row, now);
        return absl::OkStatus();
      });
}

void OnEventDelivered(sql::Connection& conn, const handoff::RelayedEvent& event,
                      const std::string& response) {
  if (event.kind != handoff::EventKind::kLeadHandoff) return;
  handoff::v1::SubmitLeadResponse receipt;
  receipt.ParseFromString(response);
  auto st = Prepare(conn, kMarkDelivered);
  st->setDouble(1, UnixSecondsOf(common::FromProtoTime(receipt.sla_deadline())));
  st->setString(2, event.event_id);
  st->executeUpdate();
  absl::StatusOr<LeadRow> row = LockLeadById(conn, event.lead_id);
  // A decision may already have arrived (sales was quick): never step back.
  if (!row.ok() || row->lead.handoff_id() != event.event_id ||
      row->lead.stage() != v1::LEAD_STAGE_MARKETING_QUALIFIED) {
    return;
  }
  const absl::Time now = absl::Now();
  row->lead.set_stage(v1::LEAD_STAGE_HANDED_OFF);
  AddHistory(conn, row->lead.lead_id(), "handoff", v1::HISTORY_ACTION_HANDED_OFF,
             absl::StrCat("MARKETING_QUALIFIED -> HANDED_OFF; handoff ", event.event_id), now);
  SaveLead(conn, *row, now);
}

}  // namespace funnel::marketing
