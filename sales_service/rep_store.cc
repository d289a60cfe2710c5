#include "sales_service/rep_store.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace funnel::sales {
namespace {

constexpr std::string_view kSelectRep = R"sql(
  SELECT rep_id, name, email, role, COALESCE(manager_rep_id, 0), active, version,
         UNIX_TIMESTAMP(created_at)
  FROM reps WHERE rep_id = ?)sql";

}  // namespace

absl::StatusOr<v1::Rep> RepStore::FindRep(int64_t rep_id) {
  v1::Rep rep;
  absl::Status status = pool_->WithConnection("find rep", [&](sql::Connection& conn) {
    std::unique_ptr<sql::PreparedStatement> st(conn.prepareStatement(std::string(kSelectRep)));
    st->setInt64(1, rep_id);
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    if (!rs->next()) return absl::NotFoundError(absl::StrCat("rep ", rep_id, " not found"));
    rep.set_rep_id(rs->getInt64(1));
    rep.set_name(rs->getString(2));
    rep.set_email(rs->getString(3));
    rep.set_role(static_cast<v1::RepRole>(rs->getInt(4)));
    rep.set_manager_rep_id(rs->getInt64(5));
    rep.set_active(rs->getBoolean(6));
    rep.set_etag(absl::StrCat(rs->getInt64(7)));
    rep.mutable_create_time()->set_seconds(static_cast<int64_t>(rs->getDouble(8)));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return rep;
}

}  // namespace funnel::sales
