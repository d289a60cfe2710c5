#include "marketing_service/leads/lead_rows.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/mysql/sql_util.h"
#include "common/status.h"
#include "common/time_util.h"
#include "marketing_service/report_aggregates.h"

namespace funnel::marketing {

using common::OptionalTime;
using common::Prepare;
using common::SetOptionalTime;
using common::SqlParam;
using common::TimeFromUnixSeconds;
using common::ToProtoTime;
using common::UnixSecondsOf;

namespace {

constexpr absl::string_view kSaveLead = R"sql(
  UPDATE leads SET email = ?, first_name = ?, last_name = ?, company = ?, title = ?, phone = ?,
    industry = ?, region = ?, company_size = ?, score = ?, temperature = ?, stage = ?,
    consent = ?, erased = ?, engagement = ?, engagement_at = FROM_UNIXTIME(?),
    first_touch_campaign_id = ?, last_touch_campaign_id = ?, last_touch_at = FROM_UNIXTIME(?),
    qualification_note = ?, handoff_id = ?, recycle_reason = ?, loss_reason = ?,
    referrer_lead_id = ?, version = version + 1,
    updated_at = FROM_UNIXTIME(?)
  WHERE lead_id = ?)sql";

// The columns a save or an insert writes (all but lead_id and created_at), and one
// row's placeholders for them.
constexpr absl::string_view kLeadWriteColumns = R"sql(email, first_name, last_name, company, title,
    phone, industry, region, company_size, score, temperature, stage, consent, erased, engagement,
    engagement_at, first_touch_campaign_id, last_touch_campaign_id, last_touch_at,
    qualification_note, handoff_id, recycle_reason, loss_reason, referrer_lead_id, version,
    updated_at)sql";
constexpr absl::string_view kLeadWriteValues =
    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FROM_UNIXTIME(?), ?, ?, FROM_UNIXTIME(?), ?, ?, "
    "?, ?, ?, ?, "
    "FROM_UNIXTIME(?)";
// Saves many locked rows at once: every row exists, so each "insert" is an update
// of all its mutable columns (the email is unchanged, so no other unique key can
// collide).
constexpr absl::string_view kSaveLeadsTail = R"sql(
  ON DUPLICATE KEY UPDATE email = VALUES(email), first_name = VALUES(first_name),
    last_name = VALUES(last_name), company = VALUES(company), title = VALUES(title),
    phone = VALUES(phone), industry = VALUES(industry), region = VALUES(region),
    company_size = VALUES(company_size), score = VALUES(score), temperature = VALUES(temperature),
    stage = VALUES(stage), consent = VALUES(consent), erased = VALUES(erased),
    engagement = VALUES(engagement), engagement_at = VALUES(engagement_at),
    first_touch_campaign_id = VALUES(first_touch_campaign_id),
    last_touch_campaign_id = VALUES(last_touch_campaign_id), last_touch_at = VALUES(last_touch_at),
    qualification_note = VALUES(qualification_note), handoff_id = VALUES(handoff_id),
    recycle_reason = VALUES(recycle_reason), loss_reason = VALUES(loss_reason),
    referrer_lead_id = VALUES(referrer_lead_id), version = VALUES(version),
    updated_at = VALUES(updated_at))sql";
// Rows per statement: 500 x 27 placeholders stays far below the protocol's 65,535.
constexpr size_t kLeadsPerStatement = 500;

// Binds kLeadWriteColumns of `row` from parameter `p` on; returns the next index.
int BindLeadColumns(sql::PreparedStatement& st, int p, const LeadRow& row, absl::Time now) {
  const v1::Lead& l = row.lead;
  const auto& c = l.contact();
  // A lead not yet stored has no etag: it is written as version 1.
  int64_t version = 1;
  if (!absl::SimpleAtoi(l.etag(), &version)) version = 1;
  if (c.email().empty()) {
    st.setNull(p++, sql::DataType::VARCHAR);
  } else {
    st.setString(p++, c.email());
  }
  for (const std::string* text : {&c.first_name(), &c.last_name(), &c.company(), &c.title(),
                                  &c.phone(), &c.industry(), &c.region()}) {
    st.setString(p++, *text);
  }
  st.setInt(p++, c.company_size());
  st.setDouble(p++, l.score());
  st.setInt(p++, l.temperature());
  st.setInt(p++, l.stage());
  st.setInt(p++, l.consent());
  st.setBoolean(p++, l.erased());
  st.setDouble(p++, row.engagement.value);
  SetOptionalTime(st, p++, row.engagement.as_of);
  st.setInt64(p++, l.first_touch_campaign_id());
  st.setInt64(p++, l.last_touch_campaign_id());
  SetOptionalTime(st, p++, row.last_touch_at);
  st.setString(p++, l.qualification_note());
  st.setString(p++, l.handoff_id());
  st.setInt(p++, l.recycle_reason());
  st.setInt(p++, l.loss_reason());
  st.setInt64(p++, l.referrer_lead_id());
  st.setInt64(p++, version);
  st.setDouble(p++,
               UnixSecondsOf(l.has_update_time() ? common::FromProtoTime(l.update_time()) : now));
  return p;
}

constexpr absl::string_view kInsertHistory = R"sql(
  INSERT INTO lead_history (lead_id, actor, action, detail, occurred_at)
  VALUES (?, ?, ?, ?, FROM_UNIXTIME(?)))sql";

}  // namespace

const absl::string_view kLeadColumns = R"sql(
  l.lead_id, l.email, l.first_name, l.last_name, l.company, l.title, l.phone, l.industry,
  l.region, l.company_size, l.score, l.temperature, l.stage, l.consent, l.erased, l.version,
  UNIX_TIMESTAMP(l.created_at), UNIX_TIMESTAMP(l.updated_at), l.engagement,
  UNIX_TIMESTAMP(l.engagement_at), l.first_touch_campaign_id, l.last_touch_campaign_id,
  UNIX_TIMESTAMP(l.last_touch_at), l.qualification_note, l.recycle_reason, l.loss_reason,
  l.handoff_id, l.merged_into, l.sales_account_id, l.sales_contact_id,
  UNIX_TIMESTAMP(l.won_at), l.referrer_lead_id)sql";

std::string LiveLeadIdOf(absl::string_view match) {
  return absl::StrCat("(SELECT IF(m.merged_into = 0, m.lead_id, m.merged_into) FROM leads m WHERE ",
                      match, ")");
}

LeadRow LeadFromRow(sql::ResultSet& rs) {
  LeadRow row;
  v1::Lead& lead = row.lead;
  lead.set_lead_id(rs.getInt64(1));
  auto* c = lead.mutable_contact();
  if (!rs.isNull(2)) c->set_email(rs.getString(2));
  c->set_first_name(rs.getString(3));
  c->set_last_name(rs.getString(4));
  c->set_company(rs.getString(5));
  c->set_title(rs.getString(6));
  c->set_phone(rs.getString(7));
  c->set_industry(rs.getString(8));
  c->set_region(rs.getString(9));
  c->set_company_size(rs.getInt(10));
  lead.set_score(rs.getDouble(11));
  lead.set_temperature(static_cast<handoff::v1::Temperature>(rs.getInt(12)));
  lead.set_stage(static_cast<v1::LeadStage>(rs.getInt(13)));
  lead.set_consent(static_cast<handoff::v1::ConsentStatus>(rs.getInt(14)));
  lead.set_erased(rs.getBoolean(15));
  lead.set_etag(absl::StrCat(rs.getInt64(16)));
  *lead.mutable_create_time() = ToProtoTime(TimeFromUnixSeconds(rs.getDouble(17)));
  *lead.mutable_update_time() = ToProtoTime(TimeFromUnixSeconds(rs.getDouble(18)));
  row.engagement.value = rs.getDouble(19);
  row.engagement.as_of = OptionalTime(rs, 20).value_or(absl::InfinitePast());
  lead.set_first_touch_campaign_id(rs.getInt64(21));
  lead.set_last_touch_campaign_id(rs.getInt64(22));
  row.last_touch_at = OptionalTime(rs, 23);
  if (row.last_touch_at) *lead.mutable_last_touch_time() = ToProtoTime(*row.last_touch_at);
  lead.set_qualification_note(rs.getString(24));
  lead.set_recycle_reason(static_cast<handoff::v1::RejectionReason>(rs.getInt(25)));
  lead.set_loss_reason(static_cast<handoff::v1::LossReason>(rs.getInt(26)));
  lead.set_handoff_id(rs.getString(27));
  row.merged_into = rs.getInt64(28);
  lead.set_sales_account_id(rs.getInt64(29));
  lead.set_sales_contact_id(rs.getInt64(30));
  row.won_at = OptionalTime(rs, 31);
  if (row.won_at) *lead.mutable_won_time() = ToProtoTime(*row.won_at);
  lead.set_referrer_lead_id(rs.getInt64(32));
  row.stored_opted_out = lead.consent() == handoff::v1::CONSENT_STATUS_OPTED_OUT;
  return row;
}

// Locks and reads one lead; NOT_FOUND when missing.
absl::StatusOr<LeadRow> LockLead(sql::Connection& conn, absl::string_view where,
                                 const SqlParam& key, absl::string_view what) {
  auto st = Prepare(
      conn, absl::StrCat("SELECT ", kLeadColumns, " FROM leads l WHERE ", where, " FOR UPDATE"));
  common::BindAll(*st, {key});
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  if (!rs->next()) return absl::NotFoundError(absl::StrCat(what, " not found"));
  return LeadFromRow(*rs);
}

absl::StatusOr<LeadRow> LockLeadById(sql::Connection& conn, int64_t lead_id) {
  ASSIGN_OR_RETURN(LeadRow row,
                   LockLead(conn, "l.lead_id = ?", lead_id, absl::StrCat("lead ", lead_id)));
  return LockSurvivor(conn, std::move(row));
}

absl::StatusOr<LeadRow> LockSurvivor(sql::Connection& conn, LeadRow row) {
  if (row.merged_into == 0) return row;
  ASSIGN_OR_RETURN(LeadRow survivor, LockLead(conn, "l.lead_id = ?", row.merged_into,
                                              absl::StrCat("lead ", row.merged_into)));
  survivor.lead.set_merged_into_lead_id(survivor.lead.lead_id());
  return survivor;
}

void SaveLead(sql::Connection& conn, LeadRow& row, absl::Time now) {
  const v1::Lead& l = row.lead;
  const auto& c = l.contact();
  auto st = Prepare(conn, kSaveLead);
  if (c.email().empty()) {
    st->setNull(1, sql::DataType::VARCHAR);
  } else {
    st->setString(1, c.email());
  }
  st->setString(2, c.first_name());
  st->setString(3, c.last_name());
  st->setString(4, c.company());
  st->setString(5, c.title());
  st->setString(6, c.phone());
  st->setString(7, c.industry());
  st->setString(8, c.region());
  st->setInt(9, c.company_size());
  st->setDouble(10, l.score());
  st->setInt(11, l.temperature());
  st->setInt(12, l.stage());
  st->setInt(13, l.consent());
  st->setBoolean(14, l.erased());
  st->setDouble(15, row.engagement.value);
  SetOptionalTime(*st, 16, row.engagement.as_of);
  st->setInt64(17, l.first_touch_campaign_id());
  st->setInt64(18, l.last_touch_campaign_id());
  SetOptionalTime(*st, 19, row.last_touch_at);
  st->setString(20, l.qualification_note());
  st->setString(21, l.handoff_id());
  st->setInt(22, l.recycle_reason());
  st->setInt(23, l.loss_reason());
  st->setInt64(24, l.referrer_lead_id());
  st->setDouble(25, UnixSecondsOf(now));
  st->setInt64(26, l.lead_id());
  st->executeUpdate();
  int64_t version = 0;
  if (absl::SimpleAtoi(l.etag(), &version)) row.lead.set_etag(absl::StrCat(version + 1));
  *row.lead.mutable_update_time() = ToProtoTime(now);
  CountOptOutFlips(conn, {&row});
}

void BumpVersion(LeadRow& row, absl::Time now) {
  int64_t version = 0;
  if (absl::SimpleAtoi(row.lead.etag(), &version)) row.lead.set_etag(absl::StrCat(version + 1));
  *row.lead.mutable_update_time() = ToProtoTime(now);
}

void CountOptOutFlips(sql::Connection& conn, const std::vector<LeadRow*>& rows) {
  std::map<int64_t, bool> flipped;
  for (LeadRow* row : rows) {
    const bool opted_out = row->lead.consent() == handoff::v1::CONSENT_STATUS_OPTED_OUT;
    if (opted_out == row->stored_opted_out) continue;
    flipped[row->lead.lead_id()] = opted_out;
    row->stored_opted_out = opted_out;
  }
  CountConsentChanges(conn, flipped);
}

void SaveLeads(sql::Connection& conn, const std::vector<LeadRow*>& rows, absl::Time now) {
  for (size_t start = 0; start < rows.size(); start += kLeadsPerStatement) {
    const size_t n = std::min(kLeadsPerStatement, rows.size() - start);
    auto st = Prepare(
        conn, absl::StrCat("INSERT INTO leads (lead_id, ", kLeadWriteColumns, ") VALUES ",
                           common::Placeholders(n, absl::StrCat("(?, ", kLeadWriteValues, ")")),
                           kSaveLeadsTail));
    int p = 1;
    for (size_t i = start; i < start + n; ++i) {
      st->setInt64(p++, rows[i]->lead.lead_id());
      p = BindLeadColumns(*st, p, *rows[i], now);
    }
    st->executeUpdate();
  }
  CountOptOutFlips(conn, rows);
}

void InsertLeads(sql::Connection& conn, const std::vector<LeadRow*>& rows, absl::Time created_at) {
  for (size_t start = 0; start < rows.size(); start += kLeadsPerStatement) {
    const size_t n = std::min(kLeadsPerStatement, rows.size() - start);
    auto st = Prepare(
        conn, absl::StrCat("INSERT INTO leads (", kLeadWriteColumns, ", created_at) VALUES ",
                           common::Placeholders(
                               n, absl::StrCat("(", kLeadWriteValues, ", FROM_UNIXTIME(?))")),
                           " RETURNING email, lead_id, UNIX_TIMESTAMP(created_at)"));
    std::map<std::string, LeadRow*> by_email;
    int p = 1;
    for (size_t i = start; i < start + n; ++i) {
      by_email[rows[i]->lead.contact().email()] = rows[i];
      p = BindLeadColumns(*st, p, *rows[i], created_at);
      st->setDouble(p++, UnixSecondsOf(created_at));
    }
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    while (rs->next()) {
      LeadRow* row = by_email.at(rs->getString(1));
      row->lead.set_lead_id(rs->getInt64(2));
      *row->lead.mutable_create_time() = ToProtoTime(TimeFromUnixSeconds(rs->getDouble(3)));
    }
  }
}

std::string HistoryActionName(v1::HistoryAction action) {
  return absl::AsciiStrToLower(
      absl::StripPrefix(v1::HistoryAction_Name(action), "HISTORY_ACTION_"));
}

v1::HistoryAction HistoryActionFromName(absl::string_view name) {
  v1::HistoryAction action = v1::HISTORY_ACTION_UNSPECIFIED;
  if (!v1::HistoryAction_Parse(absl::StrCat("HISTORY_ACTION_", absl::AsciiStrToUpper(name)),
                               &action)) {
    return v1::HISTORY_ACTION_UNSPECIFIED;
  }
  return action;
}

void AddHistory(sql::Connection& conn, int64_t lead_id, const std::string& actor,
                v1::HistoryAction action, absl::string_view detail, absl::Time now) {
  auto st = Prepare(conn, kInsertHistory);
  st->setInt64(1, lead_id);
  st->setString(2, actor);
  st->setString(3, HistoryActionName(action));
  st->setString(4, std::string(detail));
  st->setDouble(5, UnixSecondsOf(now));
  st->executeUpdate();
  if (auto event = LeadFeedEntry(lead_id, actor, HistoryActionName(action), detail, now)) {
    feed::AppendEvent(conn, *event);
  }
}

std::optional<feed::FeedEntry> LeadFeedEntry(int64_t lead_id, const std::string& actor,
                                             absl::string_view action, absl::string_view detail,
                                             absl::Time at) {
  if (action == HistoryActionName(v1::HISTORY_ACTION_TOUCHPOINT)) return std::nullopt;
  // A capture of a known address is history's "merged"; the feed keeps
  // "lead.merged" for merging two leads into one.
  absl::string_view what = action;
  if (action == HistoryActionName(v1::HISTORY_ACTION_MERGED)) what = "recaptured";
  if (action == HistoryActionName(v1::HISTORY_ACTION_LEADS_MERGED)) what = "merged";
  return feed::FeedEntry{absl::StrCat("lead.", what), "lead", absl::StrCat(lead_id), lead_id, actor,
                         std::string(detail),         at};
}

// Recomputes score and temperature of `row` under `policy` at `now`.
void Rescore(const v1::ScoringPolicy& policy, LeadRow& row, absl::Time now) {
  const double score = LeadScore(policy, row.engagement, row.lead.contact(), now);
  row.lead.set_score(score);
  row.lead.set_temperature(TemperatureFor(policy, score));
}

void AppendSegmentCriteria(const v1::SegmentCriteria& criteria, std::string* where,
                           std::vector<SqlParam>* params) {
  const v1::SegmentCriteria& c = criteria;
  auto in_list = [&](absl::string_view column, const auto& values, auto to_param) {
    if (values.empty()) return;
    absl::StrAppend(where, " AND ", column, " IN (", common::Placeholders(values.size(), "?"), ")");
    for (const auto& v : values) params->push_back(to_param(v));
  };
  auto lower = [](const std::string& s) -> SqlParam { return absl::AsciiStrToLower(s); };
  auto number = [](int v) -> SqlParam { return int64_t{v}; };
  in_list("LOWER(l.industry)", c.industries(), lower);
  in_list("LOWER(l.region)", c.regions(), lower);
  in_list("l.stage", c.stages(), number);
  in_list("l.temperature", c.temperatures(), number);
  if (c.min_company_size() > 0) {
    absl::StrAppend(where, " AND l.company_size >= ?");
    params->push_back(int64_t{c.min_company_size()});
  }
  if (c.max_company_size() > 0) {
    absl::StrAppend(where, " AND l.company_size <= ?");
    params->push_back(int64_t{c.max_company_size()});
  }
}

}  // namespace funnel::marketing
