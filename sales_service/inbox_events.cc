// What marketing's later events do to what sales holds of a lead: a consent change
// and an erasure. Each is applied once per event id (handoff::ApplyEventOnce).

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/feed/feed_log.h"
#include "common/mysql/params.h"
#include "common/mysql/sql_util.h"
#include "common/time_util.h"
#include "handoff/inbox.h"
#include "handoff/scrub.h"
#include "sales_service/account_rules.h"
#include "sales_service/directory_store.h"
#include "sales_service/inbox_store.h"

namespace funnel::sales {
namespace {

using common::Prepare;

constexpr absl::string_view kLockHandoffsOfLead =
    "SELECT seq, snapshot, state, withdrawal_reason FROM handoffs WHERE lead_id = ? FOR UPDATE";
constexpr absl::string_view kApplyConsentToHandoff = R"sql(
  UPDATE handoffs SET snapshot = ?, state = ?, withdrawal_reason = ?, version = version + 1
  WHERE seq = ?)sql";
constexpr absl::string_view kApplyConsentToContacts =
    "UPDATE contacts SET consent = ?, version = version + 1 WHERE lead_id = ?";

constexpr absl::string_view kScrubHandoff =
    "UPDATE handoffs SET snapshot = ?, decision_note = '', version = version + 1 WHERE seq = ?";
constexpr absl::string_view kEmailsOfLeadContacts =
    "SELECT email FROM contacts WHERE lead_id = ? AND email IS NOT NULL FOR UPDATE";
// An account of one, named after the person (account_rules.h), keeps no trace of them.
constexpr absl::string_view kRenamePersonalAccount = R"sql(
  UPDATE accounts SET name = CONCAT('erased person (account ', account_id, ')'),
    name_key = CONCAT('erased person (account ', account_id, ')'), version = version + 1
  WHERE name_key = ?)sql";
constexpr absl::string_view kEraseContacts = R"sql(
  UPDATE contacts SET email = NULL, first_name = '', last_name = '', title = '', phone = '',
    version = version + 1
  WHERE lead_id = ?)sql";
// The lead's opportunities: from its handoffs, or on its contacts. (Parameters: the
// lead id twice.)
constexpr absl::string_view kOpportunitiesOfLead = R"sql(
  SELECT opportunity_id FROM opportunities
  WHERE lead_id = ? OR contact_id IN (SELECT contact_id FROM contacts WHERE lead_id = ?))sql";
// A rep may have typed the person's name into the deal's name: it becomes its
// account's name and its id.
const std::string kScrubOpportunities = absl::StrCat(R"sql(
  UPDATE opportunities o
  SET o.name = LEFT(CONCAT(COALESCE((SELECT a.name FROM accounts a
                                     WHERE a.account_id = o.account_id), 'account'),
                           ' (opportunity ', o.opportunity_id, ')'), 200),
      o.next_step = '', o.loss_note = '', o.version = o.version + 1
  WHERE o.opportunity_id IN ()sql",
                                                     kOpportunitiesOfLead, ")");
const std::string kScrubObjections = absl::StrCat(R"sql(
  UPDATE objections SET text = '', resolution = ''
  WHERE (text <> '' OR resolution <> '') AND opportunity_id IN ()sql",
                                                  kOpportunitiesOfLead, ")");
// Activities on the lead's handoffs, opportunities or contacts. (Parameters: the
// lead id four times.)
const std::string kScrubActivities = absl::StrCat(R"sql(
  UPDATE activities SET notes = '', outcome = ''
  WHERE (notes <> '' OR outcome <> '')
    AND (handoff_id IN (SELECT handoff_id FROM handoffs WHERE lead_id = ?)
         OR contact_id IN (SELECT contact_id FROM contacts WHERE lead_id = ?)
         OR opportunity_id IN ()sql",
                                                  kOpportunitiesOfLead, "))");

constexpr absl::string_view kSurvivorOfLead =
    "SELECT survivor_lead_id FROM lead_merges WHERE merged_lead_id = ?";
// Earlier merges into a lead now merged itself point at the new survivor, so every
// merged lead is one hop from the lead that stands for it.
constexpr absl::string_view kRepointMerges =
    "UPDATE lead_merges SET survivor_lead_id = ? WHERE survivor_lead_id = ?";
constexpr absl::string_view kRecordMerge = R"sql(
  INSERT INTO lead_merges (merged_lead_id, survivor_lead_id, merged_at)
  VALUES (?, ?, FROM_UNIXTIME(?))
  ON DUPLICATE KEY UPDATE survivor_lead_id = VALUES(survivor_lead_id))sql";
constexpr absl::string_view kRelinkHandoff =
    "UPDATE handoffs SET lead_id = ?, snapshot = ?, version = version + 1 WHERE seq = ?";
constexpr absl::string_view kRelinkOpportunities =
    "UPDATE opportunities SET lead_id = ?, version = version + 1 WHERE lead_id = ?";
constexpr absl::string_view kRelinkContacts =
    "UPDATE contacts SET lead_id = ?, version = version + 1 WHERE lead_id = ?";
// The person's live contacts, the survivor lead's first.
constexpr absl::string_view kLiveContactsOfLead =
    "SELECT contact_id FROM contacts WHERE lead_id = ? AND merged_into = 0 ORDER BY contact_id "
    "FOR UPDATE";

int Update(sql::Connection& conn, absl::string_view sql, int64_t lead_id, int times) {
  auto st = Prepare(conn, sql);
  for (int i = 1; i <= times; ++i) st->setInt64(i, lead_id);
  return st->executeUpdate();
}

std::string WithdrawalReason(const handoff::v1::ConsentChange& change) {
  return absl::StrCat("the person opted out (",
                      change.source().empty() ? "marketing" : change.source(), ") at ",
                      absl::FormatTime(common::FromProtoTime(change.change_time())));
}

std::vector<int64_t> LiveContactsOf(sql::Connection& conn, int64_t lead_id) {
  auto st = Prepare(conn, kLiveContactsOfLead);
  st->setInt64(1, lead_id);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  std::vector<int64_t> ids;
  while (rs->next()) ids.push_back(rs->getInt64(1));
  return ids;
}

}  // namespace

int64_t CurrentLeadId(sql::Connection& conn, int64_t lead_id) {
  return common::QueryInt64With(conn, kSurvivorOfLead, {lead_id}, lead_id);
}

absl::StatusOr<handoff::v1::MergeLeadResponse> InboxStore::MergeLead(
    const handoff::v1::LeadMerged& merge, absl::Time now) {
  return handoff::ApplyEventOnce<handoff::v1::MergeLeadResponse>(
      *pool_, "merge lead", merge.event_id(), handoff::EventKind::kLeadMerged,
      [&](sql::Connection& conn, handoff::v1::MergeLeadResponse& response) -> absl::Status {
        const int64_t survivor = CurrentLeadId(conn, merge.survivor_lead_id());
        std::vector<int64_t> contacts = LiveContactsOf(conn, survivor);
        for (int64_t merged : merge.merged_lead_ids()) {
          if (merged == survivor || CurrentLeadId(conn, merged) == survivor) continue;
          common::ExecuteWith(conn, kRepointMerges, {survivor, merged});
          common::ExecuteWith(conn, kRecordMerge, {merged, survivor, common::UnixSecondsOf(now)});

          auto select = Prepare(conn, kLockHandoffsOfLead);
          select->setInt64(1, merged);
          std::unique_ptr<sql::ResultSet> rs(select->executeQuery());
          while (rs->next()) {
            handoff::v1::LeadHandoff snapshot;
            snapshot.ParseFromString(std::string(rs->getString(2)));
            snapshot.set_lead_id(survivor);
            auto update = Prepare(conn, kRelinkHandoff);
            std::istringstream blob(snapshot.SerializeAsString());
            update->setInt64(1, survivor);
            update->setBlob(2, &blob);
            update->setInt64(3, rs->getInt64(1));
            update->executeUpdate();
            response.set_handoffs_relinked(response.handoffs_relinked() + 1);
          }
          const std::vector<int64_t> theirs = LiveContactsOf(conn, merged);
          contacts.insert(contacts.end(), theirs.begin(), theirs.end());
          response.set_opportunities_relinked(
              response.opportunities_relinked() +
              common::ExecuteWith(conn, kRelinkOpportunities, {survivor, merged}));
          common::ExecuteWith(conn, kRelinkContacts, {survivor, merged});
          feed::RelinkLeadEvents(conn, merged, survivor);
        }
        // One person, one contact: the survivor lead's first contact stays.
        if (contacts.size() > 1) {
          RETURN_IF_ERROR(
              MergeContactsIn(conn, contacts.front(), {contacts.begin() + 1, contacts.end()})
                  .status());
          response.set_contacts_merged(static_cast<int32_t>(contacts.size() - 1));
        }
        return absl::OkStatus();
      });
}

absl::StatusOr<handoff::v1::UpdateConsentResponse> InboxStore::UpdateConsent(
    const handoff::v1::ConsentChange& change, absl::Time now) {
  handoff::v1::ConsentChange applied = change;
  if (!applied.has_change_time()) *applied.mutable_change_time() = common::ToProtoTime(now);
  const bool opt_out = applied.consent() == handoff::v1::CONSENT_STATUS_OPTED_OUT;
  return handoff::ApplyEventOnce<handoff::v1::UpdateConsentResponse>(
      *pool_, "update consent", change.event_id(), handoff::EventKind::kConsentChange,
      [&](sql::Connection& conn, handoff::v1::UpdateConsentResponse& response) -> absl::Status {
        const int64_t lead_id = CurrentLeadId(conn, applied.lead_id());
        auto select = Prepare(conn, kLockHandoffsOfLead);
        select->setInt64(1, lead_id);
        std::unique_ptr<sql::ResultSet> rs(select->executeQuery());
        while (rs->next()) {
          handoff::v1::LeadHandoff snapshot;
          snapshot.ParseFromString(std::string(rs->getString(2)));
          snapshot.set_consent(applied.consent());
          // An opt-out withdraws what sales has not decided yet.
          const bool withdraw = opt_out && rs->getInt(3) == v1::HANDOFF_STATE_PENDING;
          auto update = Prepare(conn, kApplyConsentToHandoff);
          std::istringstream blob(snapshot.SerializeAsString());
          update->setBlob(1, &blob);
          update->setInt(2, withdraw ? v1::HANDOFF_STATE_WITHDRAWN : rs->getInt(3));
          update->setString(3,
                            withdraw ? WithdrawalReason(applied) : std::string(rs->getString(4)));
          update->setInt64(4, rs->getInt64(1));
          update->executeUpdate();
          if (withdraw) {
            response.set_handoffs_withdrawn(response.handoffs_withdrawn() + 1);
            feed::AppendEvent(conn, {"handoff.withdrawn", "handoff", snapshot.handoff_id(), lead_id,
                                     "marketing", "the person opted out", now});
          }
        }
        auto contacts = Prepare(conn, kApplyConsentToContacts);
        contacts->setInt(1, applied.consent());
        contacts->setInt64(2, lead_id);
        response.set_contacts_updated(contacts->executeUpdate());
        return absl::OkStatus();
      });
}

absl::StatusOr<handoff::v1::EraseLeadResponse> InboxStore::Erase(
    const handoff::v1::LeadErasure& erasure) {
  return handoff::ApplyEventOnce<handoff::v1::EraseLeadResponse>(
      *pool_, "erase lead", erasure.event_id(), handoff::EventKind::kLeadErasure,
      [&](sql::Connection& conn, handoff::v1::EraseLeadResponse& response) -> absl::Status {
        const int64_t lead_id = CurrentLeadId(conn, erasure.lead_id());
        std::vector<std::string> emails;
        {
          auto select = Prepare(conn, kLockHandoffsOfLead);
          select->setInt64(1, lead_id);
          std::unique_ptr<sql::ResultSet> rs(select->executeQuery());
          while (rs->next()) {
            handoff::v1::LeadHandoff snapshot;
            snapshot.ParseFromString(std::string(rs->getString(2)));
            if (!snapshot.contact().email().empty()) emails.push_back(snapshot.contact().email());
            handoff::ScrubPersonalData(&snapshot);
            auto update = Prepare(conn, kScrubHandoff);
            std::istringstream blob(snapshot.SerializeAsString());
            update->setBlob(1, &blob);
            update->setInt64(2, rs->getInt64(1));
            update->executeUpdate();
            response.set_handoffs_erased(response.handoffs_erased() + 1);
          }
        }
        {
          auto select = Prepare(conn, kEmailsOfLeadContacts);
          select->setInt64(1, lead_id);
          std::unique_ptr<sql::ResultSet> rs(select->executeQuery());
          while (rs->next()) emails.push_back(rs->getString(1));
        }
        for (const std::string& email : emails) {
          auto rename = Prepare(conn, kRenamePersonalAccount);
          rename->setString(1, AccountKey(email));
          response.set_accounts_renamed(response.accounts_renamed() + rename->executeUpdate());
        }
        feed::ScrubLeadEvents(conn, lead_id);
        // Free text first: the contacts' lead id finds what is theirs.
        response.set_activities_erased(Update(conn, kScrubActivities, lead_id, 4));
        response.set_objections_erased(Update(conn, kScrubObjections, lead_id, 2));
        response.set_opportunities_erased(Update(conn, kScrubOpportunities, lead_id, 2));
        response.set_contacts_erased(Update(conn, kEraseContacts, lead_id, 1));
        return absl::OkStatus();
      });
}

}  // namespace funnel::sales
