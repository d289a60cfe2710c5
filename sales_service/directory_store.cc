#include "sales_service/directory_store.h"

#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/mysql/idempotency.h"
#include "common/mysql/keyset_page.h"
#include "common/mysql/params.h"
#include "common/mysql/row_table.h"
#include "common/mysql/sql_error.h"
#include "common/mysql/sql_util.h"
#include "common/pagination.h"
#include "common/status.h"
#include "common/time_util.h"
#include "common/validation.h"
#include "handoff/validation.h"
#include "sales_service/account_rules.h"

namespace funnel::sales {
namespace {

using common::InsertThenRead;
using common::LastInsertId;
using common::Prepare;
using common::ReadById;
using common::TimeFromUnixSeconds;
using common::ToProtoTime;

constexpr absl::string_view kRepColumns =
    "rep_id, name, email, role, COALESCE(manager_rep_id, 0), active, version, "
    "UNIX_TIMESTAMP(created_at), away, handoff_capacity";
constexpr absl::string_view kUpdateRepAvailability =
    "UPDATE reps SET away = ?, handoff_capacity = ?, version = version + 1 WHERE rep_id = ?";
constexpr absl::string_view kInsertRep =
    "INSERT INTO reps (name, email, role, manager_rep_id, active) VALUES (?, ?, ?, ?, ?)";
constexpr absl::string_view kAccountColumns =
    "account_id, name, industry, region, company_size, version, UNIX_TIMESTAMP(created_at), "
    "merged_into";
constexpr absl::string_view kInsertAccount =
    "INSERT INTO accounts (name, name_key, industry, region, company_size) VALUES (?, ?, ?, ?, ?)";
constexpr absl::string_view kContactColumns =
    "contact_id, account_id, COALESCE(email, ''), first_name, last_name, title, phone, version, "
    "UNIX_TIMESTAMP(created_at), consent, merged_into";
constexpr absl::string_view kInsertContact = R"sql(
  INSERT INTO contacts (account_id, email, first_name, last_name, title, phone, lead_id, consent)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?))sql";
// A handed-over person already known: the account and lead fill in where missing,
// and marketing's consent is the latest word.
constexpr absl::string_view kFindContact = R"sql(
  ON DUPLICATE KEY UPDATE contact_id = LAST_INSERT_ID(contact_id),
    account_id = IF(account_id = 0, VALUES(account_id), account_id),
    lead_id = IF(lead_id = 0, VALUES(lead_id), lead_id),
    consent = IF(VALUES(consent) = 0, consent, VALUES(consent)))sql";

// Merges: what moves to the survivor, and the tombstones (earlier tombstones of a
// duplicate are re-pointed, so every tombstone is one hop from its survivor).
constexpr absl::string_view kMoveContactOpportunities =
    "UPDATE opportunities SET contact_id = ?, version = version + 1 WHERE contact_id = ?";
constexpr absl::string_view kMoveContactActivities =
    "UPDATE activities SET contact_id = ? WHERE contact_id = ?";
constexpr absl::string_view kBuryContact =
    "UPDATE contacts SET merged_into = ?, version = version + 1 "
    "WHERE contact_id = ? OR merged_into = ?";
constexpr absl::string_view kUpdateMergedContact = R"sql(
  UPDATE contacts SET account_id = ?, first_name = ?, last_name = ?, title = ?, phone = ?,
    consent = ?, lead_id = ?, version = version + 1
  WHERE contact_id = ?)sql";
constexpr absl::string_view kMoveAccountContacts =
    "UPDATE contacts SET account_id = ?, version = version + 1 WHERE account_id = ?";
constexpr absl::string_view kMoveAccountOpportunities =
    "UPDATE opportunities SET account_id = ?, version = version + 1 WHERE account_id = ?";
constexpr absl::string_view kBuryAccount =
    "UPDATE accounts SET merged_into = ?, version = version + 1 "
    "WHERE account_id = ? OR merged_into = ?";
constexpr absl::string_view kUpdateMergedAccount =
    "UPDATE accounts SET industry = ?, region = ?, company_size = ?, version = version + 1 "
    "WHERE account_id = ?";
constexpr absl::string_view kMergedIntoContact =
    "SELECT merged_into FROM contacts WHERE contact_id = ?";
constexpr absl::string_view kMergedIntoAccount =
    "SELECT merged_into FROM accounts WHERE account_id = ?";
constexpr absl::string_view kCurrentAccountId =
    "SELECT IF(merged_into = 0, account_id, merged_into) FROM accounts WHERE account_id = ?";
constexpr absl::string_view kLeadOfContact = "SELECT lead_id FROM contacts WHERE contact_id = ?";

v1::Rep RepFromRow(sql::ResultSet& rs) {
  v1::Rep r;
  r.set_rep_id(rs.getInt64(1));
  r.set_name(rs.getString(2));
  r.set_email(rs.getString(3));
  r.set_role(static_cast<v1::RepRole>(rs.getInt(4)));
  r.set_manager_rep_id(rs.getInt64(5));
  r.set_active(rs.getBoolean(6));
  r.set_etag(absl::StrCat(rs.getInt64(7)));
  *r.mutable_create_time() = ToProtoTime(TimeFromUnixSeconds(rs.getDouble(8)));
  r.set_away(rs.getBoolean(9));
  r.set_handoff_capacity(rs.getInt(10));
  return r;
}

v1::Account AccountFromRow(sql::ResultSet& rs) {
  v1::Account a;
  a.set_account_id(rs.getInt64(1));
  a.set_name(rs.getString(2));
  a.set_industry(rs.getString(3));
  a.set_region(rs.getString(4));
  a.set_company_size(rs.getInt(5));
  a.set_etag(absl::StrCat(rs.getInt64(6)));
  *a.mutable_create_time() = ToProtoTime(TimeFromUnixSeconds(rs.getDouble(7)));
  a.set_merged_into_account_id(rs.getInt64(8));
  return a;
}

v1::Contact ContactFromRow(sql::ResultSet& rs) {
  v1::Contact c;
  c.set_contact_id(rs.getInt64(1));
  c.set_account_id(rs.getInt64(2));
  c.set_email(rs.getString(3));
  c.set_first_name(rs.getString(4));
  c.set_last_name(rs.getString(5));
  c.set_title(rs.getString(6));
  c.set_phone(rs.getString(7));
  c.set_etag(absl::StrCat(rs.getInt64(8)));
  *c.mutable_create_time() = ToProtoTime(TimeFromUnixSeconds(rs.getDouble(9)));
  c.set_consent(static_cast<handoff::v1::ConsentStatus>(rs.getInt(10)));
  c.set_merged_into_contact_id(rs.getInt64(11));
  return c;
}

const common::RowTable<v1::Rep> kReps{kRepColumns, "reps", "rep_id", "rep", &RepFromRow};
const common::RowTable<v1::Account> kAccounts{kAccountColumns, "accounts", "account_id", "account",
                                              &AccountFromRow};
const common::RowTable<v1::Contact> kContacts{kContactColumns, "contacts", "contact_id", "contact",
                                              &ContactFromRow};

// Row `id` of `table`, NOT_FOUND naming the request's `field` as the culprit.
template <typename T>
absl::StatusOr<T> ReadReferenced(sql::Connection& conn, const common::RowTable<T>& table,
                                 int64_t id, absl::string_view field) {
  absl::StatusOr<T> row = ReadById(conn, table, id);
  if (absl::IsNotFound(row.status())) {
    return absl::NotFoundError(absl::StrCat(field, ": ", row.status().message()));
  }
  return row;
}

// A row as GetX answers it: a tombstone's id answers its survivor, with the
// pointer set.
template <typename T>
absl::StatusOr<T> ReadFollowingMerge(common::ConnectionPool* pool, const common::RowTable<T>& table,
                                     int64_t id, int64_t (T::*merged_into)() const,
                                     void (T::*set_merged_into)(int64_t)) {
  ASSIGN_OR_RETURN(T row, ReadById(*pool, table, id));
  const int64_t survivor = (row.*merged_into)();
  if (survivor == 0) return row;
  ASSIGN_OR_RETURN(T merged, ReadById(*pool, table, survivor));
  (merged.*set_merged_into)(survivor);
  return merged;
}

// The id that stands for `id`: its survivor when it was merged away.
int64_t Survivor(sql::Connection& conn, absl::string_view query, int64_t id) {
  const int64_t survivor = common::QueryInt64With(conn, query, {id}, 0);
  return survivor != 0 ? survivor : id;
}

absl::Status NotMerged(absl::string_view field, absl::string_view what, int64_t id,
                       int64_t merged_into) {
  if (merged_into == 0) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(field, ": ", what, " ", id, " was merged into ",
                                                    what, " ", merged_into, "; use that one"));
}

// The survivor and duplicates of a merge, locked, in id order (two merges over the
// same rows lock them in one order). INVALID_ARGUMENT for the survivor among the
// duplicates, a repeat, or too many; NOT_FOUND naming the field; FAILED_PRECONDITION
// for a survivor that was itself merged away or a duplicate merged elsewhere. A
// duplicate already merged into this survivor is left out (a repeated merge changes
// nothing).
template <typename T>
absl::StatusOr<std::pair<T, std::vector<T>>> LockMerge(
    sql::Connection& conn, const common::RowTable<T>& table, int64_t (T::*id_of)() const,
    int64_t (T::*merged_into)() const, int64_t survivor_id,
    const std::vector<int64_t>& duplicate_ids, absl::string_view survivor_field,
    absl::string_view duplicates_field) {
  const absl::string_view what = table.what;
  std::vector<int64_t> ids = {survivor_id};
  for (size_t i = 0; i < duplicate_ids.size(); ++i) {
    const int64_t id = duplicate_ids[i];
    if (id == survivor_id) {
      return absl::InvalidArgumentError(absl::StrCat(duplicates_field, ": ", what, " ", id,
                                                     " is the survivor; a ", what,
                                                     " cannot be merged into itself"));
    }
    if (std::find(ids.begin(), ids.end(), id) != ids.end()) {
      return absl::InvalidArgumentError(absl::StrCat(duplicates_field, ": ", id, " listed twice"));
    }
    ids.push_back(id);
  }
  std::vector<int64_t> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  auto st =
      Prepare(conn, absl::StrCat("SELECT ", table.columns, " FROM ", table.table, " WHERE ",
                                 table.id_column, " IN (", common::Placeholders(sorted.size(), "?"),
                                 ") ORDER BY ", table.id_column, " FOR UPDATE"));
  for (size_t i = 0; i < sorted.size(); ++i) st->setInt64(i + 1, sorted[i]);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  std::map<int64_t, T> found;
  while (rs->next()) {
    T row = table.from_row(*rs);
    found.emplace((row.*id_of)(), std::move(row));
  }
  const auto survivor = found.find(survivor_id);
  if (survivor == found.end()) {
    return absl::NotFoundError(
        absl::StrCat(survivor_field, ": ", what, " ", survivor_id, " not found"));
  }
  RETURN_IF_ERROR(NotMerged(survivor_field, what, survivor_id, (survivor->second.*merged_into)()));
  std::vector<T> duplicates;
  for (int64_t id : duplicate_ids) {
    const auto it = found.find(id);
    if (it == found.end()) {
      return absl::NotFoundError(absl::StrCat(duplicates_field, ": ", what, " ", id, " not found"));
    }
    const int64_t into = (it->second.*merged_into)();
    if (into == survivor_id) continue;
    RETURN_IF_ERROR(NotMerged(duplicates_field, what, id, into));
    duplicates.push_back(it->second);
  }
  return std::make_pair(survivor->second, std::move(duplicates));
}

// What a merge moves from `from` to `to`, and the duplicate's tombstone.
void MoveRows(sql::Connection& conn, absl::string_view update, int64_t to, int64_t from) {
  common::ExecuteWith(conn, update, {to, from});
}
void Bury(sql::Connection& conn, absl::string_view update, int64_t survivor, int64_t id) {
  common::ExecuteWith(conn, update, {survivor, id, id});
}

// The marketing lead a contact came from; 0 for none.
int64_t LeadIdOf(sql::Connection& conn, int64_t contact_id) {
  return common::QueryInt64With(conn, kLeadOfContact, {contact_id}, 0);
}

void FillEmpty(std::string* into, const std::string& from) {
  if (into->empty()) *into = from;
}

}  // namespace

absl::StatusOr<v1::Contact> MergeContactsIn(sql::Connection& conn, int64_t survivor_id,
                                            const std::vector<int64_t>& duplicate_ids) {
  ASSIGN_OR_RETURN(
      auto locked,
      LockMerge(conn, kContacts, &v1::Contact::contact_id, &v1::Contact::merged_into_contact_id,
                survivor_id, duplicate_ids, "survivor_contact_id", "duplicate_contact_ids"));
  auto& [survivor, duplicates] = locked;
  if (duplicates.empty()) return survivor;  // merged before: nothing changes
  int64_t lead_id = LeadIdOf(conn, survivor.contact_id());
  for (const v1::Contact& d : duplicates) {
    if (survivor.account_id() == 0) survivor.set_account_id(d.account_id());
    FillEmpty(survivor.mutable_first_name(), d.first_name());
    FillEmpty(survivor.mutable_last_name(), d.last_name());
    FillEmpty(survivor.mutable_title(), d.title());
    FillEmpty(survivor.mutable_phone(), d.phone());
    survivor.set_consent(handoff::MostRestrictiveConsent(survivor.consent(), d.consent()));
    if (lead_id == 0) lead_id = LeadIdOf(conn, d.contact_id());
    MoveRows(conn, kMoveContactOpportunities, survivor.contact_id(), d.contact_id());
    MoveRows(conn, kMoveContactActivities, survivor.contact_id(), d.contact_id());
    Bury(conn, kBuryContact, survivor.contact_id(), d.contact_id());
  }
  auto st = Prepare(conn, kUpdateMergedContact);
  st->setInt64(1, survivor.account_id());
  st->setString(2, survivor.first_name());
  st->setString(3, survivor.last_name());
  st->setString(4, survivor.title());
  st->setString(5, survivor.phone());
  st->setInt(6, survivor.consent());
  st->setInt64(7, lead_id);
  st->setInt64(8, survivor.contact_id());
  st->executeUpdate();
  return ReadById(conn, kContacts, survivor.contact_id());
}

absl::StatusOr<v1::Contact> DirectoryStore::MergeContacts(int64_t survivor_id,
                                                          const std::vector<int64_t>& duplicate_ids,
                                                          const common::RequestKey& request_id) {
  return common::IdempotentTransaction<v1::Contact>(
      *pool_, "MergeContacts", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::Contact> {
        return MergeContactsIn(conn, survivor_id, duplicate_ids);
      });
}

absl::StatusOr<v1::Account> DirectoryStore::MergeAccounts(int64_t survivor_id,
                                                          const std::vector<int64_t>& duplicate_ids,
                                                          const common::RequestKey& request_id) {
  return common::IdempotentTransaction<v1::Account>(
      *pool_, "MergeAccounts", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::Account> {
        ASSIGN_OR_RETURN(auto locked,
                         LockMerge(conn, kAccounts, &v1::Account::account_id,
                                   &v1::Account::merged_into_account_id, survivor_id, duplicate_ids,
                                   "survivor_account_id", "duplicate_account_ids"));
        auto& [survivor, duplicates] = locked;
        if (duplicates.empty()) return survivor;  // merged before: nothing changes
        for (const v1::Account& d : duplicates) {
          FillEmpty(survivor.mutable_industry(), d.industry());
          FillEmpty(survivor.mutable_region(), d.region());
          if (survivor.company_size() == 0) survivor.set_company_size(d.company_size());
          MoveRows(conn, kMoveAccountContacts, survivor.account_id(), d.account_id());
          MoveRows(conn, kMoveAccountOpportunities, survivor.account_id(), d.account_id());
          Bury(conn, kBuryAccount, survivor.account_id(), d.account_id());
        }
        auto st = Prepare(conn, kUpdateMergedAccount);
        st->setString(1, survivor.industry());
        st->setString(2, survivor.region());
        st->setInt(3, survivor.company_size());
        st->setInt64(4, survivor.account_id());
        st->executeUpdate();
        return ReadById(conn, kAccounts, survivor.account_id());
      });
}

absl::StatusOr<v1::Rep> ReadRep(sql::Connection& conn, int64_t rep_id, absl::string_view field) {
  return ReadReferenced(conn, kReps, rep_id, field);
}

absl::StatusOr<v1::Rep> DirectoryStore::UpdateRep(const v1::Rep& rep,
                                                  const std::vector<std::string>& paths,
                                                  const Caller& caller,
                                                  const common::RequestKey& request_id) {
  return common::IdempotentTransaction<v1::Rep>(
      *pool_, "UpdateRep", request_id, [&](sql::Connection& conn) -> absl::StatusOr<v1::Rep> {
        ASSIGN_OR_RETURN(v1::Rep current, ReadById(conn, kReps, rep.rep_id(), /*for_update=*/true));
        RETURN_IF_ERROR(common::CheckEtag(rep.etag(), current.etag(), "rep.etag", "rep"));
        RETURN_IF_ERROR(CheckCanChange(caller, current.rep_id(), current.manager_rep_id(),
                                       absl::StrCat("rep ", current.rep_id())));
        // A rep says when they are away; how much they carry is their manager's call.
        if (std::find(paths.begin(), paths.end(), "handoff_capacity") != paths.end() &&
            !IsManagerLike(caller)) {
          return absl::PermissionDeniedError(
              "rep.handoff_capacity: only a manager or an admin sets a rep's capacity");
        }
        for (const std::string& p : paths) {
          if (p == "away") current.set_away(rep.away());
          if (p == "handoff_capacity") current.set_handoff_capacity(rep.handoff_capacity());
        }
        auto st = Prepare(conn, kUpdateRepAvailability);
        st->setBoolean(1, current.away());
        st->setInt(2, current.handoff_capacity());
        st->setInt64(3, current.rep_id());
        st->executeUpdate();
        return ReadById(conn, kReps, current.rep_id());
      });
}

absl::Status CheckAccountExists(sql::Connection& conn, int64_t account_id,
                                absl::string_view field) {
  ASSIGN_OR_RETURN(v1::Account a, ReadReferenced(conn, kAccounts, account_id, field));
  return NotMerged(field, "account", account_id, a.merged_into_account_id());
}

absl::Status CheckContactExists(sql::Connection& conn, int64_t contact_id,
                                absl::string_view field) {
  ASSIGN_OR_RETURN(v1::Contact c, ReadReferenced(conn, kContacts, contact_id, field));
  return NotMerged(field, "contact", contact_id, c.merged_into_contact_id());
}

int64_t CurrentAccountId(sql::Connection& conn, int64_t account_id) {
  if (account_id <= 0) return 0;
  return common::QueryInt64With(conn, kCurrentAccountId, {account_id}, 0);
}

int64_t FindOrCreateAccount(sql::Connection& conn, const v1::Account& account) {
  const std::string key = AccountKey(account.name());
  auto insert = Prepare(conn, absl::StrCat(kInsertAccount,
                                           " ON DUPLICATE KEY UPDATE account_id = "
                                           "LAST_INSERT_ID(account_id)"));
  insert->setString(1, CleanAccountName(account.name()));
  insert->setString(2, key);
  insert->setString(3, account.industry());
  insert->setString(4, account.region());
  insert->setInt(5, account.company_size());
  insert->executeUpdate();
  return Survivor(conn, kMergedIntoAccount, LastInsertId(conn));
}

int64_t FindOrCreateContact(sql::Connection& conn, const v1::Contact& contact, int64_t lead_id) {
  auto insert = Prepare(conn, absl::StrCat(kInsertContact, kFindContact));
  insert->setInt64(1, contact.account_id());
  insert->setString(2, contact.email());
  insert->setString(3, contact.first_name());
  insert->setString(4, contact.last_name());
  insert->setString(5, contact.title());
  insert->setString(6, contact.phone());
  insert->setInt64(7, lead_id);
  insert->setInt(8, contact.consent());
  insert->executeUpdate();
  return Survivor(conn, kMergedIntoContact, LastInsertId(conn));
}

absl::StatusOr<v1::Rep> DirectoryStore::CreateRep(const v1::Rep& rep,
                                                  const common::RequestKey& request_id) {
  return common::IdempotentTransaction<v1::Rep>(
      *pool_, "CreateRep", request_id, [&](sql::Connection& conn) -> absl::StatusOr<v1::Rep> {
        if (rep.manager_rep_id() != 0) {
          ASSIGN_OR_RETURN(v1::Rep manager,
                           ReadRep(conn, rep.manager_rep_id(), "rep.manager_rep_id"));
          if (manager.role() != v1::REP_ROLE_MANAGER) {
            return common::WithReason(
                absl::FailedPreconditionError(absl::StrCat("rep.manager_rep_id: rep ",
                                                           manager.rep_id(), " is not a MANAGER")),
                errors::v1::NOT_A_MANAGER);
          }
        }
        auto st = Prepare(conn, kInsertRep);
        st->setString(1, rep.name());
        st->setString(2, rep.email());
        st->setInt(3, rep.role());
        if (rep.manager_rep_id() == 0) {
          st->setNull(4, sql::DataType::BIGINT);
        } else {
          st->setInt64(4, rep.manager_rep_id());
        }
        st->setBoolean(5, true);
        return InsertThenRead(conn, *st, kReps,
                              absl::StrCat("rep.email: a rep with ", rep.email(), " exists"));
      });
}

absl::StatusOr<v1::Rep> DirectoryStore::GetRep(int64_t rep_id) {
  return ReadById(*pool_, kReps, rep_id);
}

absl::StatusOr<v1::ListRepsResponse> DirectoryStore::ListReps(int64_t manager_rep_id, int page_size,
                                                              const std::string& page_token) {
  common::KeysetQuery query(kRepColumns, "reps", "rep_id");
  if (manager_rep_id != 0) query.Where("manager_rep_id = ?", manager_rep_id);
  return query.Page(*pool_, absl::StrCat("reps:", manager_rep_id), page_token, page_size,
                    &RepFromRow, &v1::ListRepsResponse::mutable_reps, &v1::Rep::rep_id);
}

absl::StatusOr<v1::Account> DirectoryStore::CreateAccount(const v1::Account& account,
                                                          const common::RequestKey& request_id) {
  return common::IdempotentTransaction<v1::Account>(
      *pool_, "CreateAccount", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::Account> {
        auto st = Prepare(conn, kInsertAccount);
        st->setString(1, CleanAccountName(account.name()));
        st->setString(2, AccountKey(account.name()));
        st->setString(3, account.industry());
        st->setString(4, account.region());
        st->setInt(5, account.company_size());
        return InsertThenRead(
            conn, *st, kAccounts,
            absl::StrCat("account.name: an account named '", account.name(), "' exists"));
      });
}

absl::StatusOr<v1::Account> DirectoryStore::GetAccount(int64_t account_id) {
  return ReadFollowingMerge(pool_, kAccounts, account_id, &v1::Account::merged_into_account_id,
                            &v1::Account::set_merged_into_account_id);
}

absl::StatusOr<v1::ListAccountsResponse> DirectoryStore::ListAccounts(
    int page_size, const std::string& page_token) {
  return common::KeysetQuery(kAccountColumns, "accounts", "account_id")
      .Where("merged_into = 0")
      .Page(*pool_, "accounts:0", page_token, page_size, &AccountFromRow,
            &v1::ListAccountsResponse::mutable_accounts, &v1::Account::account_id);
}

absl::StatusOr<v1::Contact> DirectoryStore::CreateContact(const v1::Contact& contact,
                                                          const common::RequestKey& request_id) {
  return common::IdempotentTransaction<v1::Contact>(
      *pool_, "CreateContact", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::Contact> {
        if (contact.account_id() != 0) {
          RETURN_IF_ERROR(CheckAccountExists(conn, contact.account_id(), "contact.account_id"));
        }
        auto st = Prepare(conn, kInsertContact);
        st->setInt64(1, contact.account_id());
        st->setString(2, contact.email());
        st->setString(3, contact.first_name());
        st->setString(4, contact.last_name());
        st->setString(5, contact.title());
        st->setString(6, contact.phone());
        st->setInt64(7, 0);
        st->setInt(8, handoff::v1::CONSENT_STATUS_UNSPECIFIED);  // not marketing's person
        return InsertThenRead(
            conn, *st, kContacts,
            absl::StrCat("contact.email: a contact with ", contact.email(), " exists"));
      });
}

absl::StatusOr<v1::Contact> DirectoryStore::GetContact(int64_t contact_id) {
  return ReadFollowingMerge(pool_, kContacts, contact_id, &v1::Contact::merged_into_contact_id,
                            &v1::Contact::set_merged_into_contact_id);
}

absl::StatusOr<v1::ListContactsResponse> DirectoryStore::ListContacts(
    int64_t account_id, int page_size, const std::string& page_token) {
  common::KeysetQuery query(kContactColumns, "contacts", "contact_id");
  query.Where("merged_into = 0");
  if (account_id != 0) query.Where("account_id = ?", account_id);
  return query.Page(*pool_, absl::StrCat("contacts:", account_id), page_token, page_size,
                    &ContactFromRow, &v1::ListContactsResponse::mutable_contacts,
                    &v1::Contact::contact_id);
}

}  // namespace funnel::sales
