#include "common/mysql/idempotency.h"

#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>
#include <sstream>

#include "common/mysql/sql_error.h"
#include "common/mysql/sql_util.h"
#include "common/mysql/statement_cache.h"
#include "common/status.h"

namespace funnel::common {
namespace {

// INSERT IGNORE takes the key's row lock, so a concurrent first call makes this one
// wait; afterwards the row is ours (affected rows 1) or someone else's (0).
constexpr absl::string_view kClaim = R"sql(
  INSERT IGNORE INTO idempotency_keys (principal, method, request_id, fingerprint)
  VALUES (?, ?, ?, ?))sql";
constexpr absl::string_view kLoad = R"sql(
  SELECT fingerprint, response FROM idempotency_keys
  WHERE principal = ? AND method = ? AND request_id = ?)sql";
constexpr absl::string_view kSave = R"sql(
  UPDATE idempotency_keys SET response = ?
  WHERE principal = ? AND method = ? AND request_id = ?)sql";
constexpr absl::string_view kPurge =
    "DELETE FROM idempotency_keys WHERE created_at < FROM_UNIXTIME(?) LIMIT ?";

// Binds the key's (principal, method, request_id) from parameter `first` on.
void BindKey(sql::PreparedStatement& st, int first, absl::string_view method,
             const RequestKey& key) {
  st.setString(first, key.principal);
  st.setString(first + 1, std::string(method));
  st.setString(first + 2, key.request_id);
}

}  // namespace

absl::StatusOr<int64_t> PurgeRequestIds(ConnectionPool& pool, absl::Time older_than, int limit) {
  int64_t purged = 0;
  RETURN_IF_ERROR(pool.WithConnection("purge request ids", [&](sql::Connection& conn) {
    auto st = Prepare(conn, kPurge);
    st->setDouble(1, UnixSecondsOf(older_than));
    st->setInt(2, limit);
    purged = st->executeUpdate();
    return absl::OkStatus();
  }));
  return purged;
}

absl::Status ValidateRequestId(absl::string_view request_id) {
  if (request_id.size() > 200) {
    return absl::InvalidArgumentError("request_id: longer than 200 characters");
  }
  return absl::OkStatus();
}

absl::Status RequestIdReused(absl::string_view method, const RequestKey& key) {
  return WithReason(
      absl::InvalidArgumentError(absl::StrCat(
          "request_id: '", key.request_id, "' was already used for a different ", method,
          " request; a retry must repeat the request exactly, a new request needs a new id")),
      errors::v1::REQUEST_ID_REUSED);
}

absl::StatusOr<std::optional<std::string>> FindRequestResponse(sql::Connection& conn,
                                                               absl::string_view method,
                                                               const RequestKey& key) {
  auto load = Prepare(conn, kLoad);
  BindKey(*load, 1, method, key);
  std::unique_ptr<sql::ResultSet> rs(load->executeQuery());
  if (!rs->next() || rs->isNull(2)) return std::optional<std::string>();
  const std::string fingerprint = rs->getString(1);
  if (!fingerprint.empty() && !key.fingerprint.empty() && fingerprint != key.fingerprint) {
    return RequestIdReused(method, key);
  }
  return std::optional<std::string>(std::string(rs->getString(2)));
}

absl::StatusOr<std::optional<std::string>> ClaimRequestId(sql::Connection& conn,
                                                          absl::string_view method,
                                                          const RequestKey& key) {
  auto claim = Prepare(conn, kClaim);
  BindKey(*claim, 1, method, key);
  claim->setString(4, key.fingerprint);
  if (claim->executeUpdate() == 1) return std::optional<std::string>();
  absl::StatusOr<std::optional<std::string>> stored = FindRequestResponse(conn, method, key);
  // A first call commits its key and response together, so a key without a response
  // was claimed earlier in this same transaction (a batch holding one id twice).
  if (stored.ok() && !*stored) {
    return WithReason(absl::AbortedError(absl::StrCat("request_id: '", key.request_id,
                                                      "' is in use by a call still running")),
                      errors::v1::REQUEST_ID_IN_USE);
  }
  return stored;
}

void SaveRequestResponse(sql::Connection& conn, absl::string_view method, const RequestKey& key,
                         const std::string& response) {
  auto save = Prepare(conn, kSave);
  std::istringstream blob(response);
  save->setBlob(1, &blob);
  BindKey(*save, 2, method, key);
  save->executeUpdate();
}

}  // namespace funnel::common
