// LeadStore's changes to one lead (update, manual qualification, a touchpoint,
// erasure) and the re-scoring of every lead, each in its own transaction.

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <algorithm>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/ids.h"
#include "common/mysql/idempotency.h"
#include "common/mysql/sql_util.h"
#include "common/status.h"
#include "common/time_util.h"
#include "common/validation.h"
#include "funnel/handoff/v1/handoff.pb.h"
#include "handoff/outbox.h"
#include "handoff/scrub.h"
#include "marketing_service/lead_rules.h"
#include "marketing_service/leads/lead_consent.h"
#include "marketing_service/leads/lead_rows.h"
#include "marketing_service/leads/lead_steps.h"
#include "marketing_service/leads/lead_store.h"
#include "marketing_service/leads/lead_writes.h"
#include "marketing_service/lifecycle.h"
#include "marketing_service/scoring.h"
#include "marketing_service/scoring_store.h"

namespace funnel::marketing {
namespace {

using common::Prepare;
using common::ToProtoTime;

constexpr absl::string_view kOutboxPayloadsOfLead =
    "SELECT seq, payload FROM outbox WHERE lead_id = ? AND kind = ? FOR UPDATE";
constexpr absl::string_view kTombstonesOf = " FROM leads l WHERE l.merged_into = ? FOR UPDATE";
constexpr absl::string_view kUpdateOutboxPayload = "UPDATE outbox SET payload = ? WHERE seq = ?";

}  // namespace

absl::StatusOr<v1::Lead> LeadStore::UpdateLead(const v1::Lead& lead,
                                               const std::vector<std::string>& paths,
                                               const common::RequestKey& request_id,
                                               const std::string& actor, absl::Time now) {
  return Woken(common::IdempotentTransaction<v1::Lead>(
      *pool_, "UpdateLead", request_id, [&](sql::Connection& conn) -> absl::StatusOr<v1::Lead> {
        ASSIGN_OR_RETURN(LeadRow row, LockLeadById(conn, lead.lead_id()));
        RETURN_IF_ERROR(common::CheckEtag(lead.etag(), row.lead.etag(), "lead.etag", "lead"));
        if (row.lead.erased()) return LeadErased("lead: erased");
        auto* to = row.lead.mutable_contact();
        const auto& from = lead.contact();
        for (const std::string& path : paths) {
          if (path == "contact.first_name") to->set_first_name(from.first_name());
          if (path == "contact.last_name") to->set_last_name(from.last_name());
          if (path == "contact.company") to->set_company(from.company());
          if (path == "contact.title") to->set_title(from.title());
          if (path == "contact.phone") to->set_phone(from.phone());
          if (path == "contact.industry") to->set_industry(from.industry());
          if (path == "contact.region") to->set_region(from.region());
          if (path == "contact.company_size") to->set_company_size(from.company_size());
        }
        if (std::find(paths.begin(), paths.end(), "consent") != paths.end()) {
          RETURN_IF_ERROR(CheckConsentEdit(row.lead.consent(), lead.consent()));
          ChangeConsentLocked(conn, row, lead.consent(), "lead update", actor, now, now);
        }
        AddHistory(conn, row.lead.lead_id(), actor, v1::HISTORY_ACTION_UPDATED,
                   absl::StrJoin(paths, ", "), now);
        const handoff::v1::Temperature before = row.lead.temperature();
        Rescore(LoadPolicy(conn), row, now);
        RETURN_IF_ERROR(QualifyIfHot(conn, row, before, now));
        SaveLead(conn, row, now);
        return row.lead;
      }));
}

absl::StatusOr<v1::Lead> LeadStore::Qualify(int64_t lead_id, const std::string& note,
                                            const common::RequestKey& request_id,
                                            const std::string& actor, absl::Time now) {
  return Woken(common::IdempotentTransaction<v1::Lead>(
      *pool_, "QualifyLead", request_id, [&](sql::Connection& conn) -> absl::StatusOr<v1::Lead> {
        ASSIGN_OR_RETURN(LeadRow row, LockLeadById(conn, lead_id));
        RETURN_IF_ERROR(
            QualifyLocked(conn, row, handoff::v1::QUALIFICATION_METHOD_MANUAL, note, actor, now));
        SaveLead(conn, row, now);
        return row.lead;
      }));
}

absl::StatusOr<v1::EraseLeadResponse> LeadStore::Erase(int64_t lead_id,
                                                       const common::RequestKey& request_id,
                                                       const std::string& actor, absl::Time now) {
  return Woken(common::IdempotentTransaction<v1::EraseLeadResponse>(
      *pool_, "EraseLead", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::EraseLeadResponse> {
        ASSIGN_OR_RETURN(LeadRow row, LockLeadById(conn, lead_id));
        const int64_t person = row.lead.lead_id();  // the survivor of a merged-away id
        if (row.lead.erased()) {
          return LeadErased(absl::StrCat("lead ", lead_id, ": already erased"));
        }
        ErasePersonalData(row.lead);
        SaveLead(conn, row, now);
        // The person's merged-away records keep their addresses until now.
        std::vector<int64_t> records = {person};
        auto tombstones = Prepare(conn, absl::StrCat("SELECT ", kLeadColumns, kTombstonesOf));
        tombstones->setInt64(1, person);
        std::unique_ptr<sql::ResultSet> buried(tombstones->executeQuery());
        while (buried->next()) {
          LeadRow tombstone = LeadFromRow(*buried);
          ErasePersonalData(tombstone.lead);
          SaveLead(conn, tombstone, now);
          records.push_back(tombstone.lead.lead_id());
        }
        for (int64_t record : records) {
          // Handoff events already queued carry the contact too.
          auto select = Prepare(conn, kOutboxPayloadsOfLead);
          select->setInt64(1, record);
          select->setString(2, std::string(handoff::KindName(handoff::EventKind::kLeadHandoff)));
          std::unique_ptr<sql::ResultSet> rs(select->executeQuery());
          while (rs->next()) {
            handoff::v1::LeadHandoff event;
            event.ParseFromString(std::string(rs->getString(2)));
            handoff::ScrubPersonalData(&event);
            auto update = Prepare(conn, kUpdateOutboxPayload);
            std::istringstream blob(event.SerializeAsString());
            update->setBlob(1, &blob);
            update->setInt64(2, rs->getInt64(1));
            update->executeUpdate();
          }
          feed::ScrubLeadEvents(conn, record);
        }
        handoff::v1::LeadErasure erasure;
        erasure.set_event_id(common::NewUuid());
        erasure.set_lead_id(person);
        *erasure.mutable_erase_time() = ToProtoTime(now);
        erasure.set_contract_version(handoff::kContractVersion);
        handoff::InsertOutboxEvent(conn, erasure.event_id(), person,
                                   handoff::EventKind::kLeadErasure, erasure.SerializeAsString(),
                                   now);
        AddHistory(conn, person, actor, v1::HISTORY_ACTION_ERASED, "personal data removed", now);
        v1::EraseLeadResponse response;
        response.set_lead_id(person);
        *response.mutable_erase_time() = ToProtoTime(now);
        return response;
      }));
}

absl::StatusOr<v1::RecordTouchpointResponse> LeadStore::RecordTouchpoint(
    const v1::RecordTouchpointRequest& request, const std::string& actor, absl::Time now,
    const common::RequestKey& key) {
  return Woken(common::IdempotentTransaction<v1::RecordTouchpointResponse>(
      *pool_, "RecordTouchpoint", key,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::RecordTouchpointResponse> {
        RETURN_IF_ERROR(CheckCampaign(conn, request.campaign_id()));
        ASSIGN_OR_RETURN(LeadRow row, LockLeadById(conn, request.lead_id()));
        if (row.lead.erased()) return LeadErased("lead_id: lead is erased");
        const v1::ScoringPolicy policy = LoadPolicy(conn);
        const absl::Time when =
            request.has_occur_time() ? common::FromProtoTime(request.occur_time()) : now;
        const handoff::v1::Temperature before = row.lead.temperature();
        v1::RecordTouchpointResponse response;
        LeadWrites writes(conn, /*deferred=*/false);
        *response.mutable_touchpoint() = TouchLocked(writes, policy, row, request.campaign_id(),
                                                     request.type(), when, actor, now, true);
        if (before != row.lead.temperature() &&
            row.lead.temperature() != handoff::v1::TEMPERATURE_HOT) {
          AddHistory(conn, row.lead.lead_id(), "scoring", v1::HISTORY_ACTION_TEMPERATURE_CHANGED,
                     absl::StrCat(handoff::v1::Temperature_Name(before), " -> ",
                                  handoff::v1::Temperature_Name(row.lead.temperature())),
                     now);
        }
        RETURN_IF_ERROR(QualifyIfHot(conn, row, before, now));
        SaveLead(conn, row, now);
        *response.mutable_lead() = row.lead;
        return response;
      }));
}

absl::StatusOr<v1::RescoreLeadsResponse> LeadStore::RescoreAll(const common::RequestKey& request_id,
                                                               const std::string& actor,
                                                               absl::Time now) {
  constexpr absl::string_view kMethod = "RescoreLeads";
  RETURN_IF_ERROR(common::ValidateRequestId(request_id.request_id));
  v1::RescoreLeadsResponse response;
  // Re-scoring converges (a rerun changes nothing more), so a retry only needs the
  // first answer, not mutual exclusion.
  if (!request_id.empty()) {
    bool replayed = false;
    RETURN_IF_ERROR(
        pool_->WithConnection("rescore replay", [&](sql::Connection& conn) -> absl::Status {
          ASSIGN_OR_RETURN(std::optional<std::string> stored,
                           common::FindRequestResponse(conn, kMethod, request_id));
          if (stored) replayed = response.ParseFromString(*stored);
          return absl::OkStatus();
        }));
    if (replayed) return response;
  }
  int64_t after = 0;
  while (true) {
    // What a batch did, kept only once it committed: a batch that loses a conflict
    // is run again from the database alone (InTransaction reruns the whole body).
    int batch = 0;
    int64_t batch_after = after;
    v1::RescoreLeadsResponse counted;
    RETURN_IF_ERROR(
        pool_->InTransaction("rescore batch", [&](sql::Connection& conn) -> absl::Status {
          batch_after = after;
          counted.Clear();
          const v1::ScoringPolicy policy = LoadPolicy(conn);
          auto st =
              Prepare(conn, absl::StrCat("SELECT ", kLeadColumns,
                                         " FROM leads l WHERE l.lead_id > ? AND l.erased = FALSE "
                                         "AND l.merged_into = 0 "
                                         "ORDER BY l.lead_id LIMIT 500 FOR UPDATE"));
          st->setInt64(1, after);
          std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
          std::vector<LeadRow> rows;
          while (rs->next()) rows.push_back(LeadFromRow(*rs));
          batch = static_cast<int>(rows.size());
          for (LeadRow& row : rows) {
            batch_after = row.lead.lead_id();
            const double old_score = row.lead.score();
            const handoff::v1::Temperature before = row.lead.temperature();
            Rescore(policy, row, now);
            counted.set_leads_rescored(counted.leads_rescored() + 1);
            if (row.lead.temperature() != before) {
              counted.set_temperature_changed(counted.temperature_changed() + 1);
              if (row.lead.temperature() != handoff::v1::TEMPERATURE_HOT) {
                AddHistory(conn, row.lead.lead_id(), actor, v1::HISTORY_ACTION_TEMPERATURE_CHANGED,
                           absl::StrCat(handoff::v1::Temperature_Name(before), " -> ",
                                        handoff::v1::Temperature_Name(row.lead.temperature())),
                           now);
              }
            }
            const v1::LeadStage stage_before = row.lead.stage();
            RETURN_IF_ERROR(QualifyIfHot(conn, row, before, now));
            if (row.lead.stage() != stage_before) {
              counted.set_newly_qualified(counted.newly_qualified() + 1);
            }
            if (row.lead.score() != old_score || row.lead.stage() != stage_before ||
                row.lead.temperature() != before) {
              SaveLead(conn, row, now);
            }
          }
          return absl::OkStatus();
        }));
    after = batch_after;
    response.set_leads_rescored(response.leads_rescored() + counted.leads_rescored());
    response.set_temperature_changed(response.temperature_changed() +
                                     counted.temperature_changed());
    response.set_newly_qualified(response.newly_qualified() + counted.newly_qualified());
    if (batch < 500) break;
  }
  if (wake_ && response.newly_qualified() > 0) wake_();
  if (!request_id.empty()) {
    RETURN_IF_ERROR(
        pool_->InTransaction("rescore record", [&](sql::Connection& conn) -> absl::Status {
          ASSIGN_OR_RETURN(std::optional<std::string> stored,
                           common::ClaimRequestId(conn, kMethod, request_id));
          if (!stored) {
            common::SaveRequestResponse(conn, kMethod, request_id, response.SerializeAsString());
          }
          return absl::OkStatus();
        }));
  }
  return response;
}

}  // namespace funnel::marketing
