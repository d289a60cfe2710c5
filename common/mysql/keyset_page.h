#pragma once

// One page of a listing ordered by one id column (AIP-158 keyset pagination):
// rows with an id above the page token's, filtered by conditions the listing adds,
// page_size + 1 fetched to know whether another page follows. Every id-ordered
// List* method is this one shape.
//
// Example:
//   common::KeysetQuery query(kCampaignColumns, "campaigns", "campaign_id");
//   if (state != v1::CAMPAIGN_STATE_UNSPECIFIED) query.Where("state = ?", int64_t{state});
//   return query.Page(*pool_, scope, page_token, page_size, &CampaignFromRow,
//                     &v1::ListCampaignsResponse::mutable_campaigns, &v1::Campaign::campaign_id);

#include <cppconn/resultset.h>
#include <google/protobuf/repeated_ptr_field.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/mysql/params.h"
#include "common/mysql/pool.h"
#include "common/mysql/sql_util.h"
#include "common/pagination.h"
#include "common/status.h"

namespace funnel::common {

class KeysetQuery final {
 public:
  // SELECT `columns` FROM `from` (a table, or tables joined), ordered by `id_column`.
  KeysetQuery(absl::string_view columns, absl::string_view from, absl::string_view id_column)
      : select_(absl::StrCat("SELECT ", columns, " FROM ", from, " WHERE ", id_column, " > ?")),
        id_column_(id_column),
        context_(absl::StrCat("list ", from)) {}

  // Adds " AND `condition`" with the values of its placeholders, in order.
  KeysetQuery& Where(absl::string_view condition, std::vector<SqlParam> params = {}) {
    absl::StrAppend(&conditions_, " AND ", condition);
    for (SqlParam& p : params) params_.push_back(std::move(p));
    return *this;
  }
  KeysetQuery& Where(absl::string_view condition, SqlParam param) {
    return Where(condition, std::vector<SqlParam>{std::move(param)});
  }

  // The page after `page_token` (made by an earlier page of the same `scope`):
  // INVALID_ARGUMENT "page_token: ..." for a token of another listing; what the
  // database says otherwise.
  template <typename Response, typename T>
  absl::StatusOr<Response> Page(ConnectionPool& pool, const std::string& scope,
                                const std::string& page_token, int page_size,
                                T (*from_row)(sql::ResultSet&),
                                google::protobuf::RepeatedPtrField<T>* (Response::*items)(),
                                int64_t (T::*id_of)() const) const {
    Response response;
    ASSIGN_OR_RETURN(std::string next,
                     Rows(pool, scope, page_token, page_size, [&](sql::ResultSet& rs) {
                       T* item = (response.*items)()->Add();
                       *item = from_row(rs);
                       return ((*item).*id_of)();
                     }));
    response.set_next_page_token(std::move(next));
    return response;
  }

  // The same page for a listing whose items do not carry the id they are ordered
  // by: `add(row)` takes each of the page's rows in order and returns its id.
  // Returns the next page's token (empty on the last page).
  template <typename AddRow>
  absl::StatusOr<std::string> Rows(ConnectionPool& pool, const std::string& scope,
                                   const std::string& page_token, int page_size, AddRow add) const {
    ASSIGN_OR_RETURN(const int64_t after, DecodeIdToken(scope, page_token));
    std::vector<SqlParam> params = {after};
    params.insert(params.end(), params_.begin(), params_.end());
    params.push_back(int64_t{page_size + 1});
    const std::string sql =
        absl::StrCat(select_, conditions_, " ORDER BY ", id_column_, " LIMIT ?");
    std::string next;
    RETURN_IF_ERROR(pool.WithConnection(context_, [&](sql::Connection& conn) {
      auto st = Prepare(conn, sql);
      BindAll(*st, params);
      std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
      int64_t last_id = 0;
      for (int n = 0; rs->next(); ++n) {
        if (n == page_size) {  // a row past the page: another page follows
          next = EncodePageToken(scope, {absl::StrCat(last_id)});
          break;
        }
        last_id = add(*rs);
      }
      return absl::OkStatus();
    }));
    return next;
  }

 private:
  const std::string select_;
  const std::string id_column_;
  const std::string context_;  // for the log, should the database fail
  std::string conditions_;
  std::vector<SqlParam> params_;
};

}  // namespace funnel::common
