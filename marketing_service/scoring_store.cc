#include "marketing_service/scoring_store.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/mysql/idempotency.h"
#include "common/mysql/statement_cache.h"
#include "common/status.h"
#include "common/time_util.h"
#include "common/validation.h"
#include "marketing_service/scoring.h"

namespace funnel::marketing {
namespace {

constexpr absl::string_view kSelect =
    "SELECT policy, version, UNIX_TIMESTAMP(updated_at) FROM scoring_policy WHERE id = 1";
constexpr absl::string_view kSelectForUpdate =
    "SELECT policy, version, UNIX_TIMESTAMP(updated_at) FROM scoring_policy WHERE id = 1 FOR "
    "UPDATE";
constexpr absl::string_view kUpdate =
    "UPDATE scoring_policy SET policy = ?, version = version + 1, updated_at = "
    "CURRENT_TIMESTAMP(6) "
    "WHERE id = 1";

}  // namespace

v1::ScoringPolicy LoadPolicy(sql::Connection& conn, bool for_update) {
  auto st = common::Prepare(conn, for_update ? kSelectForUpdate : kSelect);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  v1::ScoringPolicy policy = DefaultScoringPolicy();
  if (!rs->next()) return policy;
  if (!rs->isNull(1)) policy.ParseFromString(std::string(rs->getString(1)));
  policy.set_etag(absl::StrCat(rs->getInt64(2)));
  *policy.mutable_update_time() =
      common::ToProtoTime(common::TimeFromUnixSeconds(rs->getDouble(3)));
  return policy;
}

absl::StatusOr<v1::ScoringPolicy> ScoringStore::Get() {
  v1::ScoringPolicy policy;
  absl::Status status = pool_->WithConnection("get scoring policy", [&](sql::Connection& conn) {
    policy = LoadPolicy(conn);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return policy;
}

absl::StatusOr<v1::ScoringPolicy> ScoringStore::Update(const v1::ScoringPolicy& policy,
                                                       const std::string& expected_etag,
                                                       const common::RequestKey& request_id) {
  return common::IdempotentTransaction<v1::ScoringPolicy>(
      *pool_, "UpdateScoringPolicy", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::ScoringPolicy> {
        v1::ScoringPolicy current = LoadPolicy(conn, /*for_update=*/true);
        RETURN_IF_ERROR(
            common::CheckEtag(expected_etag, current.etag(), "policy.etag", "scoring policy"));
        v1::ScoringPolicy stored = policy;
        stored.clear_etag();
        stored.clear_update_time();
        auto st = common::Prepare(conn, kUpdate);
        std::istringstream blob(stored.SerializeAsString());
        st->setBlob(1, &blob);
        st->executeUpdate();
        return LoadPolicy(conn);
      });
}

}  // namespace funnel::marketing
