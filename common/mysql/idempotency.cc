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
constexpr absl::string_view kClaim =
    "INSERT IGNORE INTO idempotency_keys (method, request_id) VALUES (?, ?)";
constexpr absl::string_view kLoad =
    "SELECT response FROM idempotency_keys WHERE method = ? AND request_id = ?";
constexpr absl::string_view kSave =
    "UPDATE idempotency_keys SET response = ? WHERE method = ? AND request_id = ?";
constexpr absl::string_view kPurge =
    "DELETE FROM idempotency_keys WHERE created_at < FROM_UNIXTIME(?) LIMIT ?";

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

std::optional<std::string> ClaimRequestId(sql::Connection& conn, absl::string_view method,
                                          absl::string_view request_id) {
  auto claim = Prepare(conn, kClaim);
  claim->setString(1, std::string(method));
  claim->setString(2, std::string(request_id));
  if (claim->executeUpdate() == 1) return std::nullopt;
  auto load = Prepare(conn, kLoad);
  load->setString(1, std::string(method));
  load->setString(2, std::string(request_id));
  std::unique_ptr<sql::ResultSet> rs(load->executeQuery());
  if (!rs->next()) return std::nullopt;
  return std::string(rs->getString(1));
}

void SaveRequestResponse(sql::Connection& conn, absl::string_view method,
                         absl::string_view request_id, const std::string& response) {
  auto save = Prepare(conn, kSave);
  std::istringstream blob(response);
  save->setBlob(1, &blob);
  save->setString(2, std::string(method));
  save->setString(3, std::string(request_id));
  save->executeUpdate();
}

}  // namespace funnel::common
