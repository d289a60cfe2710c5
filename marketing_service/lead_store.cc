#include "marketing_service/lead_store.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace funnel::marketing {
namespace {

constexpr std::string_view kSelectLead = R"sql(
  SELECT lead_id, COALESCE(email, ''), first_name, last_name, company, title, phone,
         industry, region, company_size, score, temperature, stage, consent, erased, version,
         UNIX_TIMESTAMP(created_at), UNIX_TIMESTAMP(updated_at)
  FROM leads WHERE lead_id = ?)sql";

void SetTime(double unix_seconds, google::protobuf::Timestamp* ts) {
  ts->set_seconds(static_cast<int64_t>(unix_seconds));
  ts->set_nanos(static_cast<int32_t>((unix_seconds - ts->seconds()) * 1e9));
}

v1::Lead LeadFromRow(sql::ResultSet& rs) {
  v1::Lead lead;
  lead.set_lead_id(rs.getInt64(1));
  auto* c = lead.mutable_contact();
  c->set_email(rs.getString(2));
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
  SetTime(rs.getDouble(17), lead.mutable_create_time());
  SetTime(rs.getDouble(18), lead.mutable_update_time());
  return lead;
}

}  // namespace

absl::StatusOr<v1::Lead> LeadStore::FindLead(int64_t lead_id) {
  v1::Lead lead;
  absl::Status status = pool_->WithConnection("find lead", [&](sql::Connection& conn) {
    std::unique_ptr<sql::PreparedStatement> st(conn.prepareStatement(std::string(kSelectLead)));
    st->setInt64(1, lead_id);
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    if (!rs->next()) return absl::NotFoundError(absl::StrCat("lead ", lead_id, " not found"));
    lead = LeadFromRow(*rs);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return lead;
}

}  // namespace funnel::marketing
