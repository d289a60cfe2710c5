#include "common/mysql/sql_error.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace funnel::common {
namespace {

bool IsConnectionError(int code) {
  switch (code) {
    case 2002:  // CR_CONNECTION_ERROR (socket)
    case 2003:  // CR_CONN_HOST_ERROR
    case 2006:  // CR_SERVER_GONE_ERROR
    case 2013:  // CR_SERVER_LOST
    case 2055:  // CR_SERVER_LOST_EXTENDED
    case 1927:  // ER_CONNECTION_KILLED
    case 1053:  // ER_SERVER_SHUTDOWN
    case 1040:  // ER_CON_COUNT_ERROR
      return true;
    default:
      return false;
  }
}

}  // namespace

bool IsRetryableTransactionError(const sql::SQLException& e) {
  return e.getErrorCode() == kErLockDeadlock || e.getErrorCode() == kErLockWaitTimeout;
}

absl::Status StatusFromSqlException(const sql::SQLException& e, absl::string_view context) {
  const int code = e.getErrorCode();
  LogWarning("sql error", {{"context", context},
                           {"errno", code},
                           {"sqlstate", std::string(e.getSQLState())},
                           {"error", std::string(e.what())}});
  if (code == kErDupEntry) {
    return absl::AlreadyExistsError(absl::StrCat(context, ": already exists"));
  }
  if (code == 1969) {  // ER_STATEMENT_TIMEOUT: max_statement_time, the call's deadline
    return absl::DeadlineExceededError(
        absl::StrCat(context, ": the call's deadline passed; the statement was stopped"));
  }
  if (code == kErLockDeadlock || code == kErLockWaitTimeout) {
    return absl::AbortedError(absl::StrCat(context, ": concurrent change, retry"));
  }
  // Connector/C++ reports some connection failures with error number 0 and
  // SQLSTATE class 08 (connection exception).
  if (IsConnectionError(code) || std::string(e.getSQLState()).rfind("08", 0) == 0) {
    return absl::UnavailableError(absl::StrCat(context, ": database unavailable"));
  }
  return absl::InternalError(absl::StrCat(context, ": database error ", code));
}

}  // namespace funnel::common
