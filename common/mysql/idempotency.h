#pragma once

// AIP-155 request ids over a service's `idempotency_keys` table (principal, method,
// request_id, fingerprint, response; request_key.h). Used inside the transaction of the mutation,
// so the key, the change and the stored response commit together or not at all: a retry after a
// crash either finds the first response or runs the mutation for the first time.

#include <cppconn/connection.h>

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/mysql/pool.h"
#include "common/request_key.h"

namespace funnel::common {

// Claims `key` for `method` in the current transaction. nullopt when this call is
// the first (a concurrent first call holding the key makes this wait for its
// commit); the stored response bytes when the key was used before for the same
// request; INVALID_ARGUMENT naming request_id when it was used for a different one.
absl::StatusOr<std::optional<std::string>> ClaimRequestId(sql::Connection& conn,
                                                          absl::string_view method,
                                                          const RequestKey& key);

// The stored response of `key` without claiming it: nullopt when there is none yet;
// INVALID_ARGUMENT naming request_id when the key was used for a different request.
absl::StatusOr<std::optional<std::string>> FindRequestResponse(sql::Connection& conn,
                                                               absl::string_view method,
                                                               const RequestKey& key);

// The error for a key reused with a different request (INVALID_ARGUMENT naming
// request_id).
absl::Status RequestIdReused(absl::string_view method, const RequestKey& key);

// Stores the response of a claimed key.
void SaveRequestResponse(sql::Connection& conn, absl::string_view method, const RequestKey& key,
                         const std::string& response);

// Deletes keys stored before `older_than` (the retention window: a retry later
// than that runs again), at most `limit` in one go; returns how many went.
absl::StatusOr<int64_t> PurgeRequestIds(ConnectionPool& pool, absl::Time older_than,
                                        int limit = 10000);

// INVALID_ARGUMENT "request_id: ..." for ids longer than 200 characters.
absl::Status ValidateRequestId(absl::string_view request_id);

// Runs `fn` in a transaction; with a non-empty key, a retry returns the first call's
// response (a protobuf message) and changes nothing, and a reuse of the id for a
// different request is INVALID_ARGUMENT.
template <typename Response>
absl::StatusOr<Response> IdempotentTransaction(
    ConnectionPool& pool, absl::string_view method, const RequestKey& key,
    const std::function<absl::StatusOr<Response>(sql::Connection&)>& fn) {
  if (absl::Status s = ValidateRequestId(key.request_id); !s.ok()) return s;
  Response response;
  absl::Status status = pool.InTransaction(method, [&](sql::Connection& conn) -> absl::Status {
    if (!key.empty()) {
      absl::StatusOr<std::optional<std::string>> stored = ClaimRequestId(conn, method, key);
      if (!stored.ok()) return stored.status();
      if (*stored) {
        if (!response.ParseFromString(**stored)) {
          return absl::InternalError(absl::StrCat(method, ": stored response unreadable"));
        }
        return absl::OkStatus();
      }
    }
    absl::StatusOr<Response> result = fn(conn);
    if (!result.ok()) return result.status();
    response = *std::move(result);
    if (!key.empty()) SaveRequestResponse(conn, method, key, response.SerializeAsString());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return response;
}

}  // namespace funnel::common
