#pragma once

// Building SQL whose WHERE clause depends on the request (list filters), still with
// `?` placeholders only: collect the values next to the SQL text, bind them in order.

#include <cppconn/prepared_statement.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

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

}  // namespace funnel::common
