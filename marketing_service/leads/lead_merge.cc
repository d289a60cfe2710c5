// LeadStore's merge of leads of one person (MergeLeads), in one transaction: the
// rules are lead_rules.h's AbsorbDuplicates and MergedConsent, the report counts
// report_aggregates.h's CountMergedLeads; sales learns of it by LeadMerged.

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/feed/feed_log.h"
#include "common/ids.h"
#include "common/mysql/idempotency.h"
#include "common/mysql/params.h"
#include "common/mysql/sql_util.h"
#include "common/status.h"
#include "common/time_util.h"
#include "funnel/handoff/v1/handoff.pb.h"
#include "handoff/contract.h"
#include "handoff/outbox.h"
#include "marketing_service/lead_rules.h"
#include "marketing_service/leads/lead_consent.h"
#include "marketing_service/leads/lead_rows.h"
#include "marketing_service/leads/lead_steps.h"
#include "marketing_service/leads/lead_store.h"
#include "marketing_service/lifecycle.h"
#include "marketing_service/report_aggregates.h"
#include "marketing_service/scoring_store.h"

namespace funnel::marketing {
namespace {

using common::SqlParam;

// Each takes the survivor's id, then the merged leads' ids.
constexpr absl::string_view kMoveTouchpoints =
    "UPDATE touchpoints SET lead_id = ? WHERE lead_id IN (";
constexpr absl::string_view kMoveHistory = "UPDATE lead_history SET lead_id = ? WHERE lead_id IN (";
constexpr absl::string_view kMoveHandoffs = "UPDATE handoffs SET lead_id = ? WHERE lead_id IN (";
// Tombstones of a merged lead point at its survivor now: one hop, always.
constexpr absl::string_view kRepointTombstones =
    "UPDATE leads SET merged_into = ? WHERE merged_into IN (";
constexpr absl::string_view kBury = "UPDATE leads SET merged_into = ? WHERE lead_id IN (";
// Takes the merged leads' ids only.
constexpr absl::string_view kAnyHandedOver = "SELECT 1 FROM handoffs WHERE lead_id IN (";

std::string InList(absl::string_view head, size_t n) {
  return absl::StrCat(head, common::Placeholders(n, "?"), ")");
}

// Locks the leads of a merge in id order (so two merges never deadlock), as
// stored: a tombstone is not followed. NOT_FOUND naming the field of a missing one.
absl::StatusOr<std::map<int64_t, LeadRow>> LockMergeLeads(sql::Connection& conn,
                                                          int64_t survivor_id,
                                                          const std::vector<int64_t>& duplicates) {
  std::vector<SqlParam> ids = {survivor_id};
  ids.insert(ids.end(), duplicates.begin(), duplicates.end());
  auto st = common::Prepare(
      conn, absl::StrCat("SELECT ", kLeadColumns, " FROM leads l WHERE l.lead_id IN (",
                         common::Placeholders(ids.size(), "?"), ") ORDER BY l.lead_id FOR UPDATE"));
  common::BindAll(*st, ids);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  std::map<int64_t, LeadRow> rows;
  while (rs->next()) {
    LeadRow row = LeadFromRow(*rs);
    rows.emplace(row.lead.lead_id(), std::move(row));
  }
  if (rows.count(survivor_id) == 0) {
    return absl::NotFoundError(absl::StrCat("survivor_lead_id: lead ", survivor_id, " not found"));
  }
  for (int64_t id : duplicates) {
    if (rows.count(id) == 0) {
      return absl::NotFoundError(absl::StrCat("duplicate_lead_ids: lead ", id, " not found"));
    }
  }
  return rows;
}

absl::Status CheckMergeable(const LeadRow& row, absl::string_view field) {
  if (row.lead.erased()) {
    return LeadErased(absl::StrCat(field, ": lead ", row.lead.lead_id(), " is erased"));
  }
  if (row.merged_into != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        field, ": lead ", row.lead.lead_id(), " was already merged into lead ", row.merged_into));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::Lead> LeadStore::MergeLeads(int64_t survivor_id,
                                               const std::vector<int64_t>& duplicate_ids,
                                               const common::RequestKey& request_id,
                                               const std::string& actor, absl::Time now) {
  return Woken(common::IdempotentTransaction<v1::Lead>(
      *pool_, "MergeLeads", request_id, [&](sql::Connection& conn) -> absl::StatusOr<v1::Lead> {
        ASSIGN_OR_RETURN(auto rows, LockMergeLeads(conn, survivor_id, duplicate_ids));
        LeadRow& survivor = rows.at(survivor_id);
        RETURN_IF_ERROR(CheckMergeable(survivor, "survivor_lead_id"));
        for (int64_t id : duplicate_ids) {
          RETURN_IF_ERROR(CheckMergeable(rows.at(id), "duplicate_lead_ids"));
        }
        // Every record of the person takes the most restrictive consent first, as a
        // change of its own: an opt-out withdraws a duplicate's queued handoff, and
        // sales hears of it in the order of that lead's events.
        std::vector<v1::Lead> as_stored;
        for (int64_t id : duplicate_ids) as_stored.push_back(rows.at(id).lead);
        const handoff::v1::ConsentStatus consent = MergedConsent(survivor.lead, as_stored);
        std::vector<MergedLead> merged;
        std::vector<v1::Lead> duplicates;  // as the consent change left them
        for (int64_t id : duplicate_ids) {
          LeadRow& row = rows.at(id);
          if (row.lead.consent() != consent) {
            ChangeConsentLocked(conn, row, consent, "lead merge", actor, now, now);
            SaveLead(conn, row, now);
          }
          merged.push_back(
              {id, row.stored_opted_out, common::FromProtoTime(row.lead.create_time())});
          duplicates.push_back(row.lead);
        }
        const bool consent_changed = survivor.lead.consent() != consent;
        ChangeConsentLocked(conn, survivor, consent, "lead merge", actor, now, now);

        const v1::ScoringPolicy policy = LoadPolicy(conn);
        const handoff::v1::Temperature before = survivor.lead.temperature();
        const std::vector<std::string> filled = AbsorbDuplicates(survivor.lead, duplicates);
        for (int64_t id : duplicate_ids) {
          survivor.engagement =
              CombineEngagement(policy, survivor.engagement, rows.at(id).engagement);
        }
        if (survivor.lead.has_last_touch_time()) {
          survivor.last_touch_at = common::FromProtoTime(survivor.lead.last_touch_time());
        }

        std::vector<SqlParam> ids(duplicate_ids.begin(), duplicate_ids.end());
        std::vector<SqlParam> to_survivor = {survivor_id};
        to_survivor.insert(to_survivor.end(), ids.begin(), ids.end());
        const bool handed_over =
            common::QueryInt64With(conn, InList(kAnyHandedOver, ids.size()) + " LIMIT 1", ids, 0) !=
            0;
        CountMergedLeads(conn, survivor_id, survivor.stored_opted_out, merged);
        for (absl::string_view move :
             {kMoveTouchpoints, kMoveHistory, kMoveHandoffs, kRepointTombstones, kBury}) {
          common::ExecuteWith(conn, InList(move, ids.size()), to_survivor);
        }
        for (int64_t id : duplicate_ids) feed::RelinkLeadEvents(conn, id, survivor_id);
        if (handed_over) {
          handoff::v1::LeadMerged event;
          event.set_event_id(common::NewUuid());
          event.set_survivor_lead_id(survivor_id);
          for (int64_t id : duplicate_ids) event.add_merged_lead_ids(id);
          *event.mutable_merge_time() = common::ToProtoTime(now);
          event.set_contract_version(handoff::kContractVersion);
          handoff::InsertOutboxEvent(conn, event.event_id(), survivor_id,
                                     handoff::EventKind::kLeadMerged, event.SerializeAsString(),
                                     now);
        }
        std::string detail = absl::StrCat("merged ", absl::StrJoin(duplicate_ids, ", "));
        if (!filled.empty()) absl::StrAppend(&detail, "; filled ", absl::StrJoin(filled, ", "));
        if (consent_changed) {
          absl::StrAppend(&detail, "; consent ", handoff::v1::ConsentStatus_Name(consent));
        }
        AddHistory(conn, survivor_id, actor, v1::HISTORY_ACTION_LEADS_MERGED, detail, now);
        Rescore(policy, survivor, now);
        RETURN_IF_ERROR(QualifyIfHot(conn, survivor, before, now));
        SaveLead(conn, survivor, now);
        return survivor.lead;
      }));
}

}  // namespace funnel::marketing
