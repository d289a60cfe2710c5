#pragma once

// A department's database holds three schema tracks: the contract's tables
// (handoff/migrations: outbox, inbox_events), written once here and recorded in
// contract_schema_migrations; the change feed's (common/feed/migrations, in
// feed_schema_migrations); and the department's own (its migrations/, recorded in
// schema_migrations).

#include <vector>

#include "absl/status/status.h"
#include "common/mysql/migrations.h"
#include "common/mysql/pool.h"

namespace funnel::handoff {

// The contract's migrations (handoff/migrations, embedded at build time).
const std::vector<common::Migration>& Migrations();

// Applies the contract's track, the feed's, then `department`'s. Errors as ApplyMigrations.
absl::Status ApplySchema(common::ConnectionPool& pool,
                         const std::vector<common::Migration>& department);

}  // namespace funnel::handoff
