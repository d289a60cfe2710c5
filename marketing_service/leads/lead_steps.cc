// The steps a lead's transaction is made of, shared by capture and the changes:
// checking a campaign, touching, and qualifying (with its handoff event).

#include "marketing_service/leads/lead_steps.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/ids.h"
#include "common/mysql/params.h"
#include "common/mysql/sql_util.h"
#include "common/status.h"
#include "common/time_util.h"
#include "funnel/handoff/v1/handoff.pb.h"
#include "handoff/outbox.h"
#include "marketing_service/lead_rules.h"
#include "marketing_service/lifecycle.h"
#include "marketing_service/scoring.h"

namespace funnel::marketing {
namespace {

using common::Prepare;
using common::ToProtoTime;
using common::UnixSecondsOf;

constexpr absl::string_view kCampaignExists = "SELECT 1 FROM campaigns WHERE campaign_id = ?";

constexpr absl::string_view kTouchpointCounts =
    "SELECT type, COUNT(*) FROM touchpoints WHERE lead_id = ? GROUP BY type ORDER BY type";

constexpr absl::string_view kInsertHandoff = R"sql(
  INSERT INTO handoffs (handoff_id, lead_id, first_touch_campaign_id, last_touch_campaign_id,
                        method, note, created_at, lead_created_at, business_type, touches_since)
  VALUES (?, ?, ?, ?, ?, ?, FROM_UNIXTIME(?), FROM_UNIXTIME(?), ?, FROM_UNIXTIME(?)))sql";
// The campaigns of a customer's touches since the last win, in time order.
constexpr absl::string_view kCampaignsTouchedSince = R"sql(
  SELECT campaign_id FROM touchpoints
  WHERE lead_id = ? AND campaign_id <> 0 AND occurred_at >= FROM_UNIXTIME(?)
  ORDER BY occurred_at, touchpoint_id)sql";

}  // namespace

absl::Status CheckCampaign(sql::Connection& conn, int64_t campaign_id) {
  if (campaign_id == 0) return absl::OkStatus();
  auto st = Prepare(conn, kCampaignExists);
  st->setInt64(1, campaign_id);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  if (!rs->next()) {
    return absl::NotFoundError(absl::StrCat("campaign_id: campaign ", campaign_id, " not found"));
  }
  return absl::OkStatus();
}

absl::Status QualifyLocked(sql::Connection& conn, LeadRow& row,
                           handoff::v1::QualificationMethod method, const std::string& note,
                           const std::string& actor, absl::Time now) {
  v1::Lead& lead = row.lead;
  RETURN_IF_ERROR(CheckQualifiable(lead.stage(), lead.consent(), lead.erased()));
  const std::string handoff_id = common::NewUuid();
  const v1::LeadStage before = lead.stage();
  MarkQualified(lead, handoff_id, note);

  QualificationFacts facts{handoff_id, method, note, actor, now, {}, row.last_touch_at};
  // A customer qualified again: expansion, credited to what touched them since.
  facts.expansion = before == v1::LEAD_STAGE_CUSTOMER;
  const absl::Time touches_since = row.won_at.value_or(absl::UnixEpoch());
  if (lead.referrer_lead_id() != 0) {
    // The referrer's survivor, when it was merged away.
    facts.referrer_contact_id =
        common::QueryInt64With(conn,
                               absl::StrCat("SELECT sales_contact_id FROM leads WHERE lead_id = ",
                                            LiveLeadIdOf("m.lead_id = ?")),
                               {lead.referrer_lead_id()}, 0);
  }
  if (facts.expansion) {
    auto st = Prepare(conn, kCampaignsTouchedSince);
    st->setInt64(1, lead.lead_id());
    st->setDouble(2, UnixSecondsOf(touches_since));
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    while (rs->next()) {
      if (facts.first_touch_campaign_id == 0) facts.first_touch_campaign_id = rs->getInt64(1);
      facts.last_touch_campaign_id = rs->getInt64(1);
    }
  }
  {
    auto st = Prepare(conn, kTouchpointCounts);
    st->setInt64(1, lead.lead_id());
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    while (rs->next()) {
      handoff::v1::TouchpointCount& count = facts.touchpoint_counts.emplace_back();
      count.set_type(static_cast<handoff::v1::TouchpointType>(rs->getInt(1)));
      count.set_count(rs->getInt64(2));
    }
  }
  const handoff::v1::LeadHandoff event = BuildLeadHandoff(lead, facts);

  auto st = Prepare(conn, kInsertHandoff);
  st->setString(1, handoff_id);
  st->setInt64(2, lead.lead_id());
  st->setInt64(3, event.first_touch_campaign_id());
  st->setInt64(4, event.last_touch_campaign_id());
  st->setInt(5, method);
  st->setString(6, note);
  st->setDouble(7, UnixSecondsOf(now));
  st->setDouble(8, UnixSecondsOf(common::FromProtoTime(lead.create_time())));
  st->setInt(9, event.business_type());
  if (facts.expansion) {
    st->setDouble(10, UnixSecondsOf(touches_since));
  } else {
    st->setNull(10, sql::DataType::DOUBLE);
  }
  st->executeUpdate();
  handoff::InsertOutboxEvent(conn, handoff_id, lead.lead_id(), handoff::EventKind::kLeadHandoff,
                             event.SerializeAsString(), now);
  AddHistory(conn, lead.lead_id(), actor, v1::HISTORY_ACTION_QUALIFIED,
             absl::StrCat(handoff::v1::QualificationMethod_Name(method), "; ",
                          v1::LeadStage_Name(before), " -> MARKETING_QUALIFIED; handoff ",
                          handoff_id, facts.expansion ? " (expansion)" : ""),
             now);
  return absl::OkStatus();
}

absl::Status QualifyIfHot(sql::Connection& conn, LeadRow& row, handoff::v1::Temperature before,
                          absl::Time now) {
  const v1::Lead& lead = row.lead;
  if (lead.temperature() != handoff::v1::TEMPERATURE_HOT) return absl::OkStatus();
  if (before != lead.temperature()) {
    AddHistory(conn, lead.lead_id(), "scoring", v1::HISTORY_ACTION_TEMPERATURE_CHANGED,
               absl::StrCat(handoff::v1::Temperature_Name(before), " -> TEMPERATURE_HOT"), now);
  }
  if (!CheckQualifiable(lead.stage(), lead.consent(), lead.erased()).ok()) return absl::OkStatus();
  return QualifyLocked(conn, row, handoff::v1::QUALIFICATION_METHOD_AUTOMATIC,
                       absl::StrFormat("score %.1f reached the hot threshold", lead.score()),
                       "scoring", now);
}

v1::Touchpoint TouchLocked(LeadWrites& writes, const v1::ScoringPolicy& policy, LeadRow& row,
                           int64_t campaign_id, handoff::v1::TouchpointType type, absl::Time when,
                           const std::string& actor, absl::Time now, bool moves_stage) {
  v1::Lead& lead = row.lead;
  const double points = TouchpointPoints(policy, type);
  v1::Touchpoint touchpoint;
  touchpoint.set_touchpoint_id(
      writes.Touchpoint(lead.lead_id(), row.stored_opted_out, campaign_id, type, when, points));
  touchpoint.set_lead_id(lead.lead_id());
  touchpoint.set_campaign_id(campaign_id);
  touchpoint.set_type(type);
  *touchpoint.mutable_occur_time() = ToProtoTime(when);
  touchpoint.set_points(points);

  row.engagement = AddTouch(policy, row.engagement, type, when);
  if (campaign_id != 0) {
    if (lead.first_touch_campaign_id() == 0) lead.set_first_touch_campaign_id(campaign_id);
    if (!row.last_touch_at || when >= *row.last_touch_at)
      lead.set_last_touch_campaign_id(campaign_id);
  }
  if (!row.last_touch_at || when > *row.last_touch_at) {
    row.last_touch_at = when;
    *lead.mutable_last_touch_time() = ToProtoTime(when);
  }
  if (moves_stage) {
    const v1::LeadStage next = StageAfterTouch(lead.stage());
    if (next != lead.stage()) {
      writes.History(
          lead.lead_id(), actor, v1::HISTORY_ACTION_STAGE_CHANGED,
          absl::StrCat(v1::LeadStage_Name(lead.stage()), " -> ", v1::LeadStage_Name(next)), now);
      lead.set_stage(next);
    }
  }
  writes.History(
      lead.lead_id(), actor, v1::HISTORY_ACTION_TOUCHPOINT,
      absl::StrCat(handoff::v1::TouchpointType_Name(type), " campaign ", campaign_id, " +", points),
      now);
  Rescore(policy, row, now);
  return touchpoint;
}

}  // namespace funnel::marketing
