#include "marketing_service/leads/lead_consent.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/mysql/idempotency.h"
#include "common/mysql/sql_util.h"
#include "common/status.h"
#include "common/time_util.h"
#include "funnel/handoff/v1/handoff.pb.h"
#include "handoff/contract.h"
#include "handoff/outbox.h"
#include "marketing_service/leads/lead_store.h"
#include "marketing_service/lifecycle.h"

namespace funnel::marketing {
namespace {

using common::Prepare;

// The lead's own events and those of the leads merged into it ("?" twice).
constexpr absl::string_view kOfPerson =
    "(lead_id = ? OR lead_id IN (SELECT m.lead_id FROM leads m WHERE m.merged_into = ?))";
// A handoff event no relay has tried to send: one that was claimed (leased_by) or
// tried (attempts) may be in sales already with its delivery not yet recorded (the
// relay sends after its claim committed), so it stays, and the opt-out follows it.
const std::string kWithdrawUnsentHandoffs =
    absl::StrCat("DELETE FROM outbox WHERE ", kOfPerson,
                 " AND kind = ? AND delivered_at IS NULL AND attempts = 0 AND leased_by IS NULL");
// Whether sales holds a handoff of the lead or is about to (one still queued).
const std::string kSalesKnowsLead = absl::StrCat(
    "SELECT EXISTS (SELECT 1 FROM handoffs WHERE lead_id = ? AND delivered_at IS NOT NULL) "
    "OR EXISTS (SELECT 1 FROM outbox WHERE ",
    kOfPerson, " AND kind = ? AND delivered_at IS NULL)");

std::string HandoffKind() {
  return std::string(handoff::KindName(handoff::EventKind::kLeadHandoff));
}

}  // namespace

void ChangeConsentLocked(sql::Connection& conn, LeadRow& row, handoff::v1::ConsentStatus consent,
                         const std::string& source, const std::string& actor,
                         absl::Time change_time, absl::Time now) {
  v1::Lead& lead = row.lead;
  if (lead.consent() == consent) return;
  lead.set_consent(consent);
  if (consent == handoff::v1::CONSENT_STATUS_OPTED_OUT) {
    // An opted-out person never reaches sales.
    auto withdraw = Prepare(conn, kWithdrawUnsentHandoffs);
    withdraw->setInt64(1, lead.lead_id());
    withdraw->setInt64(2, lead.lead_id());
    withdraw->setString(3, HandoffKind());
    if (withdraw->executeUpdate() > 0 && lead.stage() == v1::LEAD_STAGE_MARKETING_QUALIFIED) {
      AddHistory(conn, lead.lead_id(), actor, v1::HISTORY_ACTION_HANDOFF_WITHDRAWN,
                 absl::StrCat("MARKETING_QUALIFIED -> NURTURING; handoff ", lead.handoff_id()),
                 now);
      lead.set_stage(v1::LEAD_STAGE_NURTURING);
    }
  }
  auto known = Prepare(conn, kSalesKnowsLead);
  known->setInt64(1, lead.lead_id());
  known->setInt64(2, lead.lead_id());
  known->setInt64(3, lead.lead_id());
  known->setString(4, HandoffKind());
  std::unique_ptr<sql::ResultSet> rs(known->executeQuery());
  if (!rs->next() || !rs->getBoolean(1)) return;
  handoff::v1::ConsentChange change;
  change.set_event_id(common::NewUuid());
  change.set_lead_id(lead.lead_id());
  change.set_consent(consent);
  change.set_source(source);
  *change.mutable_change_time() = common::ToProtoTime(change_time);
  change.set_contract_version(handoff::kContractVersion);
  handoff::InsertOutboxEvent(conn, change.event_id(), lead.lead_id(),
                             handoff::EventKind::kConsentChange, change.SerializeAsString(), now);
}

absl::StatusOr<v1::UnsubscribeResponse> LeadStore::Unsubscribe(const std::string& email,
                                                               const common::RequestKey& request_id,
                                                               const std::string& actor) {
  return Woken(common::IdempotentTransaction<v1::UnsubscribeResponse>(
      *pool_, "Unsubscribe", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::UnsubscribeResponse> {
        ASSIGN_OR_RETURN(LeadRow found,
                         LockLead(conn, "l.email = ?", email, "email: a lead with this address"));
        ASSIGN_OR_RETURN(LeadRow row, LockSurvivor(conn, std::move(found)));
        const absl::Time now = absl::Now();
        if (row.lead.consent() != handoff::v1::CONSENT_STATUS_OPTED_OUT) {
          AddHistory(conn, row.lead.lead_id(), actor, v1::HISTORY_ACTION_UNSUBSCRIBED,
                     "consent -> OPTED_OUT", now);
          ChangeConsentLocked(conn, row, handoff::v1::CONSENT_STATUS_OPTED_OUT, "unsubscribe",
                              actor, now, now);
          SaveLead(conn, row, now);
        }
        v1::UnsubscribeResponse response;
        response.set_lead_id(row.lead.lead_id());
        response.set_consent(handoff::v1::CONSENT_STATUS_OPTED_OUT);
        return response;
      }));
}

absl::StatusOr<v1::Lead> LeadStore::Resubscribe(int64_t lead_id, const std::string& source,
                                                absl::Time consent_time,
                                                const common::RequestKey& request_id,
                                                const std::string& actor, absl::Time now) {
  return Woken(common::IdempotentTransaction<v1::Lead>(
      *pool_, "ResubscribeLead", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::Lead> {
        ASSIGN_OR_RETURN(LeadRow row, LockLeadById(conn, lead_id));
        if (row.lead.erased()) return LeadErased("lead: erased");
        if (row.lead.consent() == handoff::v1::CONSENT_STATUS_OPTED_IN) return row.lead;
        AddHistory(conn, row.lead.lead_id(), actor, v1::HISTORY_ACTION_RESUBSCRIBED,
                   absl::StrCat("consent ", handoff::v1::ConsentStatus_Name(row.lead.consent()),
                                " -> OPTED_IN; source: ", source,
                                "; given at: ", absl::FormatTime(consent_time)),
                   now);
        ChangeConsentLocked(conn, row, handoff::v1::CONSENT_STATUS_OPTED_IN, source, actor,
                            consent_time, now);
        SaveLead(conn, row, now);
        return row.lead;
      }));
}

}  // namespace funnel::marketing
