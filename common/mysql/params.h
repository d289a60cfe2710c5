#pragma once

// Building SQL whose WHERE clause depends on the request (list filters), still with
// `?` placeholders only: collect the values next to the SQL text, bind them in order.

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/mysql/statement_cache.h"

namespace funnel::common {

using SqlParam = std::variant<int64_t, double, std::string>;

inline void BindAll(sql::PreparedStatement& st, const std::vector<SqlParam>& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    const unsigned index = static_cast<unsigned>(i + 1);
    if (const auto* n = std::get_if<int64_t>(&params[i])) {
      st.setInt64(index, *n);
    } else if (const auto* d = std::get_if<double>(&params[i])) {
      st.setDouble(index, *d);
    } else {
      st.setString(index, std::get<std::string>(params[i]));
    }
  }
}

// Runs a statement with `params` bound in order; the rows it changed.
inline int ExecuteWith(sql::Connection& conn, absl::string_view sql,
                       const std::vector<SqlParam>& params) {
  auto st = Prepare(conn, sql);
  BindAll(*st, params);
  return st->executeUpdate();
}

// The first column of the first row of a query with `params`, or `fallback` when
// there is no row or the value is NULL.
inline int64_t QueryInt64With(sql::Connection& conn, absl::string_view sql,
                              const std::vector<SqlParam>& params, int64_t fallback) {
  auto st = Prepare(conn, sql);
  BindAll(*st, params);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  return rs->next() && !rs->isNull(1) ? rs->getInt64(1) : fallback;
}

}  // namespace funnel::common
