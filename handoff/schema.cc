#include "handoff/schema.h"

#include "common/feed/feed_hub.h"
#include "common/status.h"

namespace funnel::handoff {

absl::Status ApplySchema(common::ConnectionPool& pool,
                         const std::vector<common::Migration>& department) {
  RETURN_IF_ERROR(common::ApplyMigrations(pool, Migrations(), "contract_schema_migrations"));
  RETURN_IF_ERROR(common::ApplyMigrations(pool, feed::Migrations(), "feed_schema_migrations"));
  return common::ApplyMigrations(pool, department);
}

}  // namespace funnel::handoff
