// LeadStore's captures: group-committed batches, each one transaction that locks
// the batch's stored leads once, makes the new ones in memory and inserts them
// once, and applies every capture in order.

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/mysql/idempotency.h"
#include "common/mysql/params.h"
#include "common/mysql/sql_util.h"
#include "common/status.h"
#include "common/time_util.h"
#include "handoff/wake.h"
#include "marketing_service/lead_rules.h"
#include "marketing_service/leads/lead_consent.h"
#include "marketing_service/leads/lead_rows.h"
#include "marketing_service/leads/lead_steps.h"
#include "marketing_service/leads/lead_store.h"
#include "marketing_service/leads/lead_writes.h"
#include "marketing_service/lifecycle.h"
#include "marketing_service/report_aggregates.h"
#include "marketing_service/scoring.h"
#include "marketing_service/scoring_store.h"

namespace funnel::marketing {
namespace {

using common::Prepare;
using common::SqlParam;
using common::ToProtoTime;

constexpr absl::string_view kCaptureMethod = "CaptureLead";

// A capture's idempotency key: the caller's id, scoped to the caller (its actor is
// the verified principal), with the fingerprint of the prepared request.
common::RequestKey KeyOfCapture(const CaptureItem& item) {
  common::RequestKey key(item.request.request_id());
  key.principal = item.actor;
  key.fingerprint = common::RequestFingerprint(item.request);
  return key;
}

// Runs of a capture batch that lost a race for a new email (see CaptureMany).
constexpr int kCaptureAttempts = 3;

// Which of the items' non-zero ids (`id_of`) are among `column` of `table`.
std::set<int64_t> ExistingIds(sql::Connection& conn, const std::vector<CaptureItem>& items,
                              int64_t (v1::CaptureLeadRequest::*id_of)() const,
                              absl::string_view table, absl::string_view column) {
  std::set<int64_t> wanted;
  for (const CaptureItem& item : items) {
    if ((item.request.*id_of)() != 0) wanted.insert((item.request.*id_of)());
  }
  std::set<int64_t> found;
  if (wanted.empty()) return found;
  std::vector<SqlParam> params(wanted.begin(), wanted.end());
  auto st = Prepare(conn, absl::StrCat("SELECT ", column, " FROM ", table, " WHERE ", column,
                                       " IN (", common::Placeholders(params.size(), "?"), ")"));
  common::BindAll(*st, params);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  while (rs->next()) found.insert(rs->getInt64(1));
  return found;
}

// Locks and reads the stored leads with these emails (the others are new).
std::map<std::string, LeadRow> LockLeadsByEmail(sql::Connection& conn,
                                                const std::vector<std::string>& emails) {
  auto st = Prepare(conn, absl::StrCat("SELECT ", kLeadColumns, " FROM leads l WHERE l.email IN (",
                                       common::Placeholders(emails.size(), "?"), ") FOR UPDATE"));
  for (size_t i = 0; i < emails.size(); ++i) st->setString(static_cast<int>(i) + 1, emails[i]);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  std::map<std::string, LeadRow> rows;
  while (rs->next()) {
    LeadRow row = LeadFromRow(*rs);
    rows.emplace(row.lead.contact().email(), std::move(row));
  }
  return rows;
}

// Replaces the merged-away leads among `rows` by their survivors (locked, under
// their own addresses). Answers each merged-away address with its survivor's.
absl::StatusOr<std::map<std::string, std::string>> FollowMergedAddresses(
    sql::Connection& conn, std::map<std::string, LeadRow>& rows) {
  std::map<std::string, std::string> survivor_address;
  for (auto it = rows.begin(); it != rows.end();) {
    if (it->second.merged_into == 0) {
      ++it;
      continue;
    }
    ASSIGN_OR_RETURN(LeadRow survivor, LockSurvivor(conn, std::move(it->second)));
    survivor.lead.clear_merged_into_lead_id();
    survivor_address[it->first] = survivor.lead.contact().email();
    rows.emplace(survivor.lead.contact().email(), std::move(survivor));  // unless there
    it = rows.erase(it);
  }
  return survivor_address;
}

// The leads a capture batch creates. Each lives in memory under a placeholder id
// (-1, -2, ...) until it is inserted once, with the values the batch leaves it,
// instead of an empty row first and every column rewritten after (half the index
// work of a new lead). A lead something must find by id mid-batch (qualification)
// is inserted then and saved at the end like a stored one.
class NewLeads final {
 public:
  NewLeads(sql::Connection& conn, LeadWrites& writes, absl::Time created_at)
      : conn_(conn), writes_(writes), created_at_(created_at) {}

  // A new lead with the defaults of the leads table.
  LeadRow Make(const std::string& email) {
    LeadRow row;
    v1::Lead& lead = row.lead;
    lead.set_lead_id(-static_cast<int64_t>(stored_.size() + 1));
    stored_.emplace(lead.lead_id(), 0);
    lead.mutable_contact()->set_email(email);
    lead.set_temperature(handoff::v1::TEMPERATURE_COLD);
    lead.set_stage(v1::LEAD_STAGE_NEW);
    lead.set_consent(handoff::v1::CONSENT_STATUS_UNKNOWN);
    lead.set_etag("1");
    *lead.mutable_create_time() = ToProtoTime(created_at_);
    *lead.mutable_update_time() = ToProtoTime(created_at_);
    row.engagement.as_of = absl::InfinitePast();
    return row;
  }

  // Inserts the rows still waiting among `rows`, giving them (and their deferred
  // writes) their lead ids. Throws on a taken email (another transaction created the
  // lead since this one looked).
  void Store(const std::vector<LeadRow*>& rows) {
    std::vector<LeadRow*> waiting;
    std::vector<int64_t> placeholders;
    for (LeadRow* row : rows) {
      if (row->lead.lead_id() >= 0) continue;
      waiting.push_back(row);
      placeholders.push_back(row->lead.lead_id());
    }
    InsertLeads(conn_, waiting, created_at_);
    std::map<int64_t, int64_t> renamed;
    for (size_t i = 0; i < waiting.size(); ++i) {
      renamed[placeholders[i]] = waiting[i]->lead.lead_id();
      stored_[placeholders[i]] = waiting[i]->lead.lead_id();
      create_times_[waiting[i]->lead.lead_id()] = waiting[i]->lead.create_time();
    }
    writes_.Rename(renamed);
  }

  // A lead as a response showed it before it was stored: with its id and create time.
  void Resolve(v1::Lead& lead) const {
    if (lead.lead_id() < 0) lead.set_lead_id(stored_.at(lead.lead_id()));
    if (auto it = create_times_.find(lead.lead_id()); it != create_times_.end()) {
      *lead.mutable_create_time() = it->second;
    }
  }

  int64_t made() const { return static_cast<int64_t>(stored_.size()); }
  // The lowest id among those stored (0 before any was).
  int64_t lowest_id() const {
    int64_t first = 0;
    for (const auto& [placeholder, id] : stored_) {
      if (id > 0 && (first == 0 || id < first)) first = id;
    }
    return first;
  }

 private:
  sql::Connection& conn_;
  LeadWrites& writes_;
  const absl::Time created_at_;
  std::map<int64_t, int64_t> stored_;  // placeholder -> lead id (0 until stored)
  std::map<int64_t, google::protobuf::Timestamp> create_times_;  // by lead id
};

// One capture applied to its locked lead: creates (the row is new: version 1, as
// every capture saves) or merges, touches, re-scores and qualifies a lead that
// turned hot. The lead's version and update time advance as SaveLeads will write.
absl::StatusOr<v1::CaptureLeadResponse> CaptureInto(sql::Connection& conn, LeadWrites& writes,
                                                    NewLeads& new_leads,
                                                    const v1::ScoringPolicy& policy,
                                                    const CaptureItem& item, LeadRow& row) {
  const v1::CaptureLeadRequest& request = item.request;
  const absl::Time now = item.now;
  v1::CaptureLeadResponse response;
  if (row.lead.etag() == "1") {
    *row.lead.mutable_contact() = request.contact();
    row.lead.set_referrer_lead_id(request.referrer_lead_id());
    row.lead.set_consent(request.consent() == handoff::v1::CONSENT_STATUS_UNSPECIFIED
                             ? handoff::v1::CONSENT_STATUS_UNKNOWN
                             : request.consent());
    row.lead.set_stage(v1::LEAD_STAGE_NEW);
    response.set_created(true);
    writes.History(row.lead.lead_id(), item.actor, v1::HISTORY_ACTION_CAPTURED,
                   absl::StrCat("campaign ", request.campaign_id()), now);
  } else {
    const handoff::v1::ConsentStatus consent_before = row.lead.consent();
    const std::vector<std::string> filled = MergeCapture(row.lead, request);
    writes.History(
        row.lead.lead_id(), item.actor, v1::HISTORY_ACTION_MERGED,
        filled.empty() ? "no new fields" : absl::StrCat("filled ", absl::StrJoin(filled, ", ")),
        now);
    if (const handoff::v1::ConsentStatus consent = row.lead.consent(); consent != consent_before) {
      // A consent the capture filled in is a change like any other: it may withdraw a
      // handoff and reach sales. (Rare: the batch's writes go first, in order.)
      row.lead.set_consent(consent_before);
      writes.Flush();
      ChangeConsentLocked(conn, row, consent, "capture", item.actor, now, now);
    }
  }
  const handoff::v1::Temperature before = row.lead.temperature();
  if (request.touchpoint_type() != handoff::v1::TOUCHPOINT_TYPE_UNSPECIFIED) {
    TouchLocked(writes, policy, row, request.campaign_id(), request.touchpoint_type(), now,
                item.actor, now,
                /*moves_stage=*/!response.created());
  } else {
    Rescore(policy, row, now);
  }
  if (row.lead.temperature() == handoff::v1::TEMPERATURE_HOT) {
    new_leads.Store({&row});  // qualification refers to the lead by id
    writes.Flush();  // Qualification counts the lead's touchpoints and adds history after them.
    RETURN_IF_ERROR(QualifyIfHot(conn, row, before, now));
  }
  BumpVersion(row, now);
  *response.mutable_lead() = row.lead;
  return response;
}

}  // namespace

absl::StatusOr<v1::CaptureLeadResponse> LeadStore::Capture(const v1::CaptureLeadRequest& request,
                                                           const std::string& actor,
                                                           absl::Time now) {
  return captures_.Submit(CaptureItem{request, actor, now});
}

std::vector<absl::StatusOr<v1::CaptureLeadResponse>> LeadStore::CaptureMany(
    const std::vector<CaptureItem>& items) {
  std::vector<absl::StatusOr<v1::CaptureLeadResponse>> results;
  auto capture = [&](sql::Connection& conn) -> absl::Status {
    results.assign(items.size(), absl::UnknownError("not captured"));  // again on a retry
    std::vector<common::RequestKey> keys(items.size());  // of the items with a request_id
    // (principal, request_id) -> its first item; (repeat, first item).
    std::map<std::pair<std::string, std::string>, size_t> first_with_key;
    std::vector<std::pair<size_t, size_t>> repeats;
    const std::set<int64_t> campaigns =
        ExistingIds(conn, items, &v1::CaptureLeadRequest::campaign_id, "campaigns", "campaign_id");
    const std::set<int64_t> referrers =
        ExistingIds(conn, items, &v1::CaptureLeadRequest::referrer_lead_id, "leads", "lead_id");
    std::vector<size_t> todo;
    for (size_t i = 0; i < items.size(); ++i) {
      const v1::CaptureLeadRequest& request = items[i].request;
      if (request.campaign_id() != 0 && campaigns.count(request.campaign_id()) == 0) {
        results[i] = absl::NotFoundError(
            absl::StrCat("campaign_id: campaign ", request.campaign_id(), " not found"));
        continue;
      }
      if (request.referrer_lead_id() != 0 && referrers.count(request.referrer_lead_id()) == 0) {
        results[i] = absl::NotFoundError(
            absl::StrCat("referrer_lead_id: lead ", request.referrer_lead_id(), " not found"));
        continue;
      }
      if (absl::Status s = common::ValidateRequestId(request.request_id()); !s.ok()) {
        results[i] = s;
        continue;
      }
      // A retried request answers as the first time; nothing in this batch can fail
      // once its key is claimed, so a claimed key always gets its response. An id
      // twice in one batch takes the first item's answer.
      if (!request.request_id().empty()) {
        const common::RequestKey& key = keys[i] = KeyOfCapture(items[i]);
        auto [first, inserted] =
            first_with_key.emplace(std::make_pair(key.principal, key.request_id), i);
        if (!inserted) {
          if (keys[first->second].fingerprint != key.fingerprint) {
            results[i] = common::RequestIdReused(kCaptureMethod, key);
          } else {
            repeats.emplace_back(i, first->second);
          }
          continue;
        }
        ASSIGN_OR_RETURN(std::optional<std::string> stored,
                         common::ClaimRequestId(conn, kCaptureMethod, key));
        if (stored) {
          v1::CaptureLeadResponse replay;
          if (!replay.ParseFromString(*stored))
            return absl::InternalError("CaptureLead: stored response unreadable");
          replay.set_replayed(true);
          results[i] = replay;
          continue;
        }
      }
      todo.push_back(i);
    }
    auto answer_repeats = [&] {
      for (auto [i, first] : repeats) {
        results[i] = results[first];
        if (results[i].ok()) results[i]->set_replayed(true);
      }
    };
    if (todo.empty()) {
      answer_repeats();
      return absl::OkStatus();
    }

    // Lock the stored leads of these emails; the rest are new.
    std::vector<std::string> emails;
    for (size_t i : todo) emails.push_back(items[i].request.contact().email());
    std::sort(emails.begin(), emails.end());
    emails.erase(std::unique(emails.begin(), emails.end()), emails.end());
    std::map<std::string, LeadRow> rows = LockLeadsByEmail(conn, emails);
    ASSIGN_OR_RETURN(const auto survivor_address, FollowMergedAddresses(conn, rows));
    auto row_of = [&](const std::string& email) -> LeadRow& {
      auto merged = survivor_address.find(email);
      return rows.at(merged == survivor_address.end() ? email : merged->second);
    };
    const absl::Time now = items[todo.front()].now;
    LeadWrites writes(conn, /*deferred=*/true);
    NewLeads new_leads(conn, writes, now);
    std::vector<LeadRow*> stored;  // saved at the end
    for (auto& [email, row] : rows) stored.push_back(&row);
    for (const std::string& email : emails) {
      if (rows.count(email) == 0 && survivor_address.count(email) == 0) {
        rows.emplace(email, new_leads.Make(email));
      }
    }

    const v1::ScoringPolicy policy = LoadPolicy(conn);
    for (size_t i : todo) {
      const CaptureItem& item = items[i];
      const common::RequestIdScope request_id(item.request_id);
      LeadRow& row = row_of(item.request.contact().email());
      const bool was_new = row.lead.lead_id() < 0;
      ASSIGN_OR_RETURN(v1::CaptureLeadResponse response,
                       CaptureInto(conn, writes, new_leads, policy, item, row));
      if (was_new && row.lead.lead_id() > 0) stored.push_back(&row);  // stored mid-batch
      results[i] = std::move(response);
    }
    std::vector<LeadRow*> inserted;
    for (auto& [email, row] : rows) {
      if (row.lead.lead_id() < 0) inserted.push_back(&row);
    }
    new_leads.Store(inserted);
    for (size_t i : todo) {
      new_leads.Resolve(*results[i]->mutable_lead());
      if (!keys[i].empty()) {
        common::SaveRequestResponse(conn, kCaptureMethod, keys[i], results[i]->SerializeAsString());
      }
    }
    answer_repeats();
    writes.Flush();
    SaveLeads(conn, stored, now);
    CountOptOutFlips(conn, inserted);  // after their touchpoints were counted
    CountCapturedLeads(conn, new_leads.made(), now, new_leads.lowest_id());
    return absl::OkStatus();
  };
  // Under READ COMMITTED the lock on the emails takes no gap locks, so batches
  // creating leads side by side do not deadlock; a batch that finds one of its new
  // emails taken meanwhile (a duplicate key) runs again and merges into that lead.
  absl::Status status;
  for (int attempt = 1; attempt <= kCaptureAttempts; ++attempt) {
    status = pool_->InTransaction("CaptureLead", capture, /*read_committed=*/true);
    if (!absl::IsAlreadyExists(status)) break;
  }
  if (!status.ok()) results.assign(items.size(), status);
  (void)handoff::WakeIfOk(status, wake_);
  return results;
}

}  // namespace funnel::marketing
