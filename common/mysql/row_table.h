#pragma once

// A table whose rows a store reads as one kind of message, and the two shapes every
// store uses it in: reading one row by id, and create-then-read (a Create* answers
// the row as the database stored it, defaults, times and version included, read back
// in the creating transaction).
//
// Example:
//   const common::RowTable<v1::Rep> kReps{kRepColumns, "reps", "rep_id", "rep", &RepFromRow};
//   ASSIGN_OR_RETURN(v1::Rep rep, common::ReadById(conn, kReps, rep_id));
//   return common::InsertThenRead(conn, *insert, kReps, "rep.email: taken");

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/mysql/pool.h"
#include "common/mysql/sql_error.h"
#include "common/mysql/sql_util.h"

namespace funnel::common {

template <typename T>
struct RowTable {
  absl::string_view columns;  // the select list `from_row` reads
  absl::string_view table;
  absl::string_view id_column;  // its AUTO_INCREMENT key
  absl::string_view what;       // names a row in errors: "rep 7 not found"
  T (*from_row)(sql::ResultSet&);
};

// Row `id` of `table`, locked for the rest of the transaction with `for_update`.
// NOT_FOUND "<what> <id> not found".
template <typename T>
absl::StatusOr<T> ReadById(sql::Connection& conn, const RowTable<T>& table, int64_t id,
                           bool for_update = false) {
  auto st = Prepare(conn, absl::StrCat("SELECT ", table.columns, " FROM ", table.table, " WHERE ",
                                       table.id_column, " = ?", for_update ? " FOR UPDATE" : ""));
  st->setInt64(1, id);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  if (!rs->next()) return absl::NotFoundError(absl::StrCat(table.what, " ", id, " not found"));
  return table.from_row(*rs);
}

// The same on a connection of `pool`, for a Get* of its own.
template <typename T>
absl::StatusOr<T> ReadById(ConnectionPool& pool, const RowTable<T>& table, int64_t id) {
  absl::StatusOr<T> row;
  absl::Status s =
      pool.WithConnection(absl::StrCat("get ", table.what), [&](sql::Connection& conn) {
        row = ReadById(conn, table, id);
        return row.status();
      });
  if (!s.ok()) return s;
  return row;
}

// Runs `insert`. ALREADY_EXISTS `duplicate` when it hits a unique key; other
// database errors throw as usual.
inline absl::Status InsertUnique(sql::PreparedStatement& insert, absl::string_view duplicate) {
  try {
    insert.executeUpdate();
  } catch (const sql::SQLException& e) {
    if (e.getErrorCode() == kErDupEntry) return absl::AlreadyExistsError(duplicate);
    throw;
  }
  return absl::OkStatus();
}

// Create-then-read: runs `insert` (as InsertUnique) and answers the row it made.
template <typename T>
absl::StatusOr<T> InsertThenRead(sql::Connection& conn, sql::PreparedStatement& insert,
                                 const RowTable<T>& table, absl::string_view duplicate = "") {
  if (duplicate.empty()) {
    insert.executeUpdate();
  } else if (absl::Status s = InsertUnique(insert, duplicate); !s.ok()) {
    return s;
  }
  return ReadById(conn, table, LastInsertId(conn));
}

}  // namespace funnel::common
