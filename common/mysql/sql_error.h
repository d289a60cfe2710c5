#pragma once

#include <cppconn/exception.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace funnel::common {

// MySQL/MariaDB error numbers Funnel reacts to.
inline constexpr int kErDupEntry = 1062;
inline constexpr int kErLockWaitTimeout = 1205;
inline constexpr int kErLockDeadlock = 1213;

// Maps a Connector/C++ exception to a status by MySQL error number:
// duplicate key -> ALREADY_EXISTS; deadlock or lock wait timeout -> ABORTED;
// lost or refused connection, or a Galera node not ready (1047) -> UNAVAILABLE; anything else ->
// INTERNAL. The server's message (which may quote SQL or data) goes to the log only; the returned
// message names `context` and the error number.
absl::Status StatusFromSqlException(const sql::SQLException& e, absl::string_view context);

// True for deadlock and lock-wait timeout: the transaction was rolled back and can
// be run again as it is.
bool IsRetryableTransactionError(const sql::SQLException& e);

}  // namespace funnel::common
