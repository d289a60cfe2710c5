#pragma once

// SQL for who sales works with: reps, accounts and contacts.

#include <cppconn/connection.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/mysql/pool.h"
#include "common/request_key.h"
#include "funnel/sales/v1/sales_service.pb.h"
#include "sales_service/pipeline.h"

namespace funnel::sales {

class DirectoryStore final {
 public:
  explicit DirectoryStore(common::ConnectionPool* pool) : pool_(pool) {}

  // `rep` is validated, email normalised. ALREADY_EXISTS for a known email;
  // NOT_FOUND for an unknown manager.
  absl::StatusOr<v1::Rep> CreateRep(const v1::Rep& rep, const common::RequestKey& request_id);
  // NOT_FOUND for an unknown rep (GetAccount, GetContact alike).
  absl::StatusOr<v1::Rep> GetRep(int64_t rep_id);
  // Sets the `paths` (away, handoff_capacity) of rep.rep_id from `rep`. NOT_FOUND;
  // ABORTED for a stale etag; PERMISSION_DENIED unless the caller may change the
  // rep (pipeline.h's row rule: the rep, their manager, ADMIN), and for a rep
  // setting their own handoff_capacity.
  absl::StatusOr<v1::Rep> UpdateRep(const v1::Rep& rep, const std::vector<std::string>& paths,
                                    const Caller& caller, const common::RequestKey& request_id);
  absl::StatusOr<v1::ListRepsResponse> ListReps(int64_t manager_rep_id, int page_size,
                                                const std::string& page_token);

  // ALREADY_EXISTS for a name already taken (compared case-insensitively).
  absl::StatusOr<v1::Account> CreateAccount(const v1::Account& account,
                                            const common::RequestKey& request_id);
  // A merged-away id answers its survivor, merged_into_account_id set (GetContact
  // alike). Lists leave merged-away rows out.
  absl::StatusOr<v1::Account> GetAccount(int64_t account_id);
  absl::StatusOr<v1::ListAccountsResponse> ListAccounts(int page_size,
                                                        const std::string& page_token);
  // Moves the duplicates' contacts and opportunities to the survivor, fills its
  // empty fields from them, and leaves them as tombstones (lists skip them; a
  // handoff naming their company lands on the survivor). Errors: see LockMerge in
  // the .cc (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION naming the field).
  absl::StatusOr<v1::Account> MergeAccounts(int64_t survivor_id,
                                            const std::vector<int64_t>& duplicate_ids,
                                            const common::RequestKey& request_id);

  // `contact` has a normalised email. ALREADY_EXISTS for a known email; NOT_FOUND
  // for an unknown account.
  absl::StatusOr<v1::Contact> CreateContact(const v1::Contact& contact,
                                            const common::RequestKey& request_id);
  absl::StatusOr<v1::Contact> GetContact(int64_t contact_id);
  absl::StatusOr<v1::ListContactsResponse> ListContacts(int64_t account_id, int page_size,
                                                        const std::string& page_token);
  // Moves the duplicates' opportunities and activities to the survivor, fills its
  // empty fields (account, names, title, phone, marketing lead) from them, takes
  // the most restrictive consent, and leaves them as tombstones. Errors as
  // MergeAccounts.
  absl::StatusOr<v1::Contact> MergeContacts(int64_t survivor_id,
                                            const std::vector<int64_t>& duplicate_ids,
                                            const common::RequestKey& request_id);

 private:
  common::ConnectionPool* const pool_;
};

// In a caller's transaction. NOT_FOUND naming `field` when the id is unknown;
// FAILED_PRECONDITION naming it when an account or contact was merged away.
absl::StatusOr<v1::Rep> ReadRep(sql::Connection& conn, int64_t rep_id, absl::string_view field);
absl::Status CheckAccountExists(sql::Connection& conn, int64_t account_id, absl::string_view field);
absl::Status CheckContactExists(sql::Connection& conn, int64_t contact_id, absl::string_view field);
// DirectoryStore::MergeContacts in the caller's transaction.
absl::StatusOr<v1::Contact> MergeContactsIn(sql::Connection& conn, int64_t survivor_id,
                                            const std::vector<int64_t>& duplicate_ids);
// The id `account_id` stands for now (its survivor when it was merged away); 0
// when no account has it.
int64_t CurrentAccountId(sql::Connection& conn, int64_t account_id);
// The account with this name (case-insensitive), created if missing; its id (its
// survivor's when it was merged away).
int64_t FindOrCreateAccount(sql::Connection& conn, const v1::Account& account);
// The contact with this (normalised) email, created if missing; its id (its
// survivor's when it was merged away). Sets the
// contact's account and lead when it had none, and its consent when `contact`
// carries one.
int64_t FindOrCreateContact(sql::Connection& conn, const v1::Contact& contact, int64_t lead_id);

}  // namespace funnel::sales
