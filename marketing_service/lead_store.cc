#include "marketing_service/lead_store.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/ids.h"
#include "common/mysql/idempotency.h"
#include "common/mysql/keyset_page.h"
#include "common/mysql/params.h"
#include "common/mysql/sql_util.h"
#include "common/pagination.h"
#include "common/status.h"
#include "common/time_util.h"
#include "common/validation.h"
#include "funnel/handoff/v1/handoff.pb.h"
#include "handoff/outbox.h"
#include "handoff/scrub.h"
#include "marketing_service/lead_consent.h"
#include "marketing_service/lead_rows.h"
#include "marketing_service/lead_rules.h"
#include "marketing_service/lead_writes.h"
#include "marketing_service/lifecycle.h"
#include "marketing_service/report_aggregates.h"
#include "marketing_service/scoring.h"
#include "marketing_service/scoring_store.h"

namespace funnel::marketing {
namespace {

using common::OptionalTime;
using common::Prepare;
using common::SqlParam;
using common::ToProtoTime;
using common::UnixSecondsOf;

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

constexpr absl::string_view kCampaignExists = "SELECT 1 FROM campaigns WHERE campaign_id = ?";

constexpr absl::string_view kTouchpointCounts =
    "SELECT type, COUNT(*) FROM touchpoints WHERE lead_id = ? GROUP BY type ORDER BY type";

constexpr absl::string_view kInsertHandoff = R"sql(
  INSERT INTO handoffs (handoff_id, lead_id, first_touch_campaign_id, last_touch_campaign_id,
                        method, note, created_at, lead_created_at)
  VALUES (?, ?, ?, ?, ?, ?, FROM_UNIXTIME(?), FROM_UNIXTIME(?)))sql";

constexpr absl::string_view kOutboxPayloadsOfLead =
    "SELECT seq, payload FROM outbox WHERE lead_id = ? AND kind = 'LeadHandoff' FOR UPDATE";
constexpr absl::string_view kUpdateOutboxPayload = "UPDATE outbox SET payload = ? WHERE seq = ?";

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

// Moves the lead to MARKETING_QUALIFIED, records the handoff, and queues the
// LeadHandoff for sales, all in the caller's transaction.
absl::Status QualifyLocked(sql::Connection& conn, LeadRow& row,
                           handoff::v1::QualificationMethod method, const std::string& note,
                           const std::string& actor, absl::Time now) {
  v1::Lead& lead = row.lead;
  RETURN_IF_ERROR(CheckQualifiable(lead.stage(), lead.consent(), lead.erased()));
  const std::string handoff_id = common::NewUuid();
  const v1::LeadStage before = lead.stage();
  MarkQualified(lead, handoff_id, note);

  QualificationFacts facts{handoff_id, method, note, actor, now, {}, row.last_touch_at};
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
  st->setInt64(3, lead.first_touch_campaign_id());
  st->setInt64(4, lead.last_touch_campaign_id());
  st->setInt(5, method);
  st->setString(6, note);
  st->setDouble(7, UnixSecondsOf(now));
  st->setDouble(8, UnixSecondsOf(common::FromProtoTime(lead.create_time())));
  st->executeUpdate();
  handoff::InsertOutboxEvent(conn, handoff_id, lead.lead_id(), handoff::EventKind::kLeadHandoff,
                             event.SerializeAsString(), now);
  AddHistory(
      conn, lead.lead_id(), actor, v1::HISTORY_ACTION_QUALIFIED,
      absl::StrCat(handoff::v1::QualificationMethod_Name(method), "; ", v1::LeadStage_Name(before),
                   " -> MARKETING_QUALIFIED; handoff ", handoff_id),
      now);
  return absl::OkStatus();
}

// After a score change: a lead that turned hot is qualified by score, if it may be.
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

// Adds a touchpoint to a locked lead and re-scores it (no qualification). The
// touchpoint's id is 0 when `writes` defers.
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

// The ids among the items' campaigns that exist.
absl::StatusOr<std::set<int64_t>> ExistingCampaigns(sql::Connection& conn,
                                                    const std::vector<CaptureItem>& items) {
  std::set<int64_t> wanted;
  for (const CaptureItem& item : items) {
    if (item.request.campaign_id() != 0) wanted.insert(item.request.campaign_id());
  }
  std::set<int64_t> found;
  if (wanted.empty()) return found;
  std::vector<SqlParam> params(wanted.begin(), wanted.end());
  auto st = Prepare(conn, absl::StrCat("SELECT campaign_id FROM campaigns WHERE campaign_id IN (",
                                       common::Placeholders(params.size(), "?"), ")"));
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
    ASSIGN_OR_RETURN(std::set<int64_t> campaigns, ExistingCampaigns(conn, items));
    std::vector<size_t> todo;
    for (size_t i = 0; i < items.size(); ++i) {
      const v1::CaptureLeadRequest& request = items[i].request;
      if (request.campaign_id() != 0 && campaigns.count(request.campaign_id()) == 0) {
        results[i] = absl::NotFoundError(
            absl::StrCat("campaign_id: campaign ", request.campaign_id(), " not found"));
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
    const absl::Time now = items[todo.front()].now;
    LeadWrites writes(conn, /*deferred=*/true);
    NewLeads new_leads(conn, writes, now);
    std::vector<LeadRow*> stored;  // saved at the end
    for (auto& [email, row] : rows) stored.push_back(&row);
    for (const std::string& email : emails) {
      if (rows.count(email) == 0) rows.emplace(email, new_leads.Make(email));
    }

    const v1::ScoringPolicy policy = LoadPolicy(conn);
    for (size_t i : todo) {
      const CaptureItem& item = items[i];
      const common::RequestIdScope request_id(item.request_id);
      LeadRow& row = rows.at(item.request.contact().email());
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
        if (row.lead.erased()) {
          return LeadErased(absl::StrCat("lead ", lead_id, ": already erased"));
        }
        ErasePersonalData(row.lead);
        SaveLead(conn, row, now);
        // Handoff events already queued carry the contact too.
        auto select = Prepare(conn, kOutboxPayloadsOfLead);
        select->setInt64(1, lead_id);
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
        handoff::v1::LeadErasure erasure;
        erasure.set_event_id(common::NewUuid());
        erasure.set_lead_id(lead_id);
        *erasure.mutable_erase_time() = ToProtoTime(now);
        erasure.set_contract_version(handoff::kContractVersion);
        handoff::InsertOutboxEvent(conn, erasure.event_id(), lead_id,
                                   handoff::EventKind::kLeadErasure, erasure.SerializeAsString(),
                                   now);
        AddHistory(conn, lead_id, actor, v1::HISTORY_ACTION_ERASED, "personal data removed", now);
        v1::EraseLeadResponse response;
        response.set_lead_id(lead_id);
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
