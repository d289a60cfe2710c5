#pragma once

// AIP-155 request ids over a service's `idempotency_keys` table (method,
// request_id, response). Used inside the transaction of the mutation, so the key,
// the change and the stored response commit together or not at all: a retry after
// a crash either finds the first response or runs the mutation for the first time.

#include <cppconn/connection.h>

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/mysql/pool.h"

namespace funnel::common {

// Claims (method, request_id) in the current transaction. Returns the stored
// response bytes when the key was used before; nullopt when this call is the first
// (a concurrent first call holding the key makes this wait for its commit).
std::optional<std::string> ClaimRequestId(sql::Connection& conn, absl::string_view method,
                                          absl::string_view request_id);

// Stores the response of a claimed key.
void SaveRequestResponse(sql::Connection& conn, absl::string_view method,
                         absl::string_view request_id, const std::string& response);

// Deletes keys stored before `older_than` (the retention window: a retry later
// than that runs again), at most `limit` in one go; returns how many went.
absl::StatusOr<int64_t> PurgeRequestIds(ConnectionPool& pool, absl::Time older_than,
                                        int limit = 10000);

// INVALID_ARGUMENT "request_id: ..." for ids longer than 200 characters.
absl::Status ValidateRequestId(absl::string_view request_id);

// Runs `fn` in a transaction; with a non-empty request_id, a retry returns the first
// call's response (a protobuf message) and changes nothing.
template <typename Response>
absl::StatusOr<Response> IdempotentTransaction(
    ConnectionPool& pool, absl::string_view method, absl::string_view request_id,
    const std::function<absl::StatusOr<Response>(sql::Connection&)>& fn) {
  if (absl::Status s = ValidateRequestId(request_id); !s.ok()) return s;
  Response response;
  absl::Status status = pool.InTransaction(method, [&](sql::Connection& conn) -> absl::Status {
    if (!request_id.empty()) {
      if (std::optional<std::string> stored = ClaimRequestId(conn, method, request_id)) {
        if (!response.ParseFromString(*stored)) {
          return absl::InternalError(absl::StrCat(method, ": stored response unreadable"));
        }
        return absl::OkStatus();
      }
    }
    absl::StatusOr<Response> result = fn(conn);
    if (!result.ok()) return result.status();
    response = *std::move(result);
    if (!request_id.empty()) {
      SaveRequestResponse(conn, method, request_id, response.SerializeAsString());
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return response;
}

}  // namespace funnel::common
