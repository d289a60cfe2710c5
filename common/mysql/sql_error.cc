#include "common/mysql/sql_error.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/metrics.h"

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
    case 1047:  // ER_UNKNOWN_COM_ERROR: a Galera node outside the primary component
      return true;
    default:
      return false;
  }
}

// The column a data error names ("Data too long for column 'description' at row
// 1"), or "request" when it names none.
std::string ColumnOf(absl::string_view message) {
  const size_t at = message.find("column '");
  if (at == absl::string_view::npos) return "request";
  const size_t start = at + 8;
  const size_t end = message.find('\'', start);
  if (end == absl::string_view::npos) return "request";
  return std::string(message.substr(start, end - start));
}

}  // namespace

bool IsRetryableTransactionError(const sql::SQLException& e) {
  return e.getErrorCode() == kErLockDeadlock || e.getErrorCode() == kErLockWaitTimeout;
}

absl::Status StatusFromSqlException(const sql::SQLException& e, absl::string_view context) {
  const int code = e.getErrorCode();
  static prometheus::Family<prometheus::Counter>& errors = CounterFamily(
      "funnel_db_sql_errors_total", "SQL errors the server answered, by MySQL error number.");
  errors.Add({{"errno", absl::StrCat(code)}}).Increment();
  LogWarning("sql error", {{"context", context},
                           {"errno", code},
                           {"sqlstate", std::string(e.getSQLState())},
                           {"error", std::string(e.what())}});
  if (code == kErDupEntry) {
    return absl::AlreadyExistsError(absl::StrCat(context, ": already exists"));
  }
  // A value the column cannot hold: the caller's input, which a handler should have
  // bounded; the transaction rolled back, so nothing changed.
  switch (code) {
    case 1406:  // ER_DATA_TOO_LONG
      return absl::InvalidArgumentError(
          absl::StrCat(ColumnOf(e.what()), ": longer than the database column holds"));
    case 1264:  // ER_WARN_DATA_OUT_OF_RANGE
    case 1292:  // ER_TRUNCATED_WRONG_VALUE (a time out of range)
    case 1366:  // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
      return absl::InvalidArgumentError(
          absl::StrCat(ColumnOf(e.what()), ": a value the database column cannot hold"));
    case 1390:  // ER_PS_MANY_PARAM
      return absl::InvalidArgumentError("request: too many values in one list");
    default:
      break;
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
