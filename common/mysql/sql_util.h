#pragma once

// Small helpers for store code over Connector/C++.

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/mysql/statement_cache.h"  // Prepare
#include "common/time_util.h"

namespace funnel::common {

// An enum set as SQL, "(6, 7)", for `column IN <set>`: statements name enum values
// from the proto (kClosedStages = SqlSet({v1::STAGE_CLOSED_WON, ...})), never as
// bare numbers.
inline std::string SqlSet(std::initializer_list<int> values) {
  return absl::StrCat("(", absl::StrJoin(values, ", "), ")");
}

// `group` n times, comma-separated: the "?"s of an IN list, or the "(?, ?)" rows of
// a multi-row VALUES.
inline std::string Placeholders(size_t n, absl::string_view group) {
  return absl::StrJoin(std::vector<absl::string_view>(n, group), ",");
}

// Runs "<insert> <values>,<values>..." over `rows`, at most 500 rows a statement
// (far below the protocol's 65,535 placeholders and the server's packet limit);
// `bind(statement, first_index, row)` sets one row's parameters.
template <typename Row, typename Bind>
void InsertRows(sql::Connection& conn, absl::string_view insert, absl::string_view values,
                const std::vector<Row>& rows, int params_per_row, Bind bind) {
  constexpr size_t kRowsPerStatement = 500;
  for (size_t start = 0; start < rows.size(); start += kRowsPerStatement) {
    const size_t n = std::min(kRowsPerStatement, rows.size() - start);
    auto st = Prepare(conn, absl::StrCat(insert, Placeholders(n, values)));
    for (size_t i = 0; i < n; ++i)
      bind(*st, static_cast<int>(i) * params_per_row + 1, rows[start + i]);
    st->executeUpdate();
  }
}

// The AUTO_INCREMENT id the connection's last INSERT produced.
inline int64_t LastInsertId(sql::Connection& conn) {
  std::unique_ptr<sql::Statement> st(conn.createStatement());
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery("SELECT LAST_INSERT_ID()"));
  rs->next();
  return rs->getInt64(1);
}

// A UNIX_TIMESTAMP(...) column that may be NULL.
inline std::optional<absl::Time> OptionalTime(sql::ResultSet& rs, int column) {
  if (rs.isNull(column)) return std::nullopt;
  return TimeFromUnixSeconds(rs.getDouble(column));
}

// Binds a time for FROM_UNIXTIME(?), or NULL.
inline void SetOptionalTime(sql::PreparedStatement& st, unsigned index,
                            std::optional<absl::Time> t) {
  if (t && *t != absl::InfinitePast()) {
    st.setDouble(index, UnixSecondsOf(*t));
  } else {
    st.setNull(index, sql::DataType::DOUBLE);
  }
}

// A DATETIME(6) column's text, in UTC: a date past 2038 (TIMESTAMP's end) that the
// database keeps as written, whatever the session's time zone.
inline std::string SqlDatetime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S", t, absl::UTCTimeZone());
}

// Binds an optional time to a DATETIME(6) column (SqlDatetime), or NULL.
inline void SetOptionalDatetime(sql::PreparedStatement& st, unsigned index,
                                std::optional<absl::Time> t) {
  if (t) {
    st.setString(index, SqlDatetime(*t));
  } else {
    st.setNull(index, sql::DataType::VARCHAR);
  }
}

// A DATETIME(6) column read as text (SELECT it as is: Connector returns
// "YYYY-MM-DD HH:MM:SS.ffffff"), in UTC; nullopt for NULL.
inline std::optional<absl::Time> OptionalDatetime(sql::ResultSet& rs, int column) {
  if (rs.isNull(column)) return std::nullopt;
  absl::Time t;
  std::string error;
  const std::string text = rs.getString(column);
  if (!absl::ParseTime("%Y-%m-%d %H:%M:%E*S", text, absl::UTCTimeZone(), &t, &error)) {
    return std::nullopt;
  }
  return t;
}

// Binds an optional int, or NULL.
inline void SetOptionalInt(sql::PreparedStatement& st, unsigned index, bool has, int value) {
  if (has) {
    st.setInt(index, value);
  } else {
    st.setNull(index, sql::DataType::INTEGER);
  }
}

}  // namespace funnel::common
