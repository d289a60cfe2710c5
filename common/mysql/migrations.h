#pragma once

// Versioned schema migrations. Each service ships migrations/NNN_name.sql, embedded
// in its binary at build time (cmake/FunnelProto.cmake: funnel_embed_migrations),
// and applies the pending ones in order at start-up, recording each in the
// schema_migrations table.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/mysql/pool.h"

namespace funnel::common {

struct Migration {
  int version;       // NNN from the file name; strictly increasing.
  std::string name;  // the rest of the file name, for the record.
  std::string sql;   // statements separated by ';' at the end of a line.
};

// Applies every migration newer than the database's recorded version, in order,
// recording each in the table `track` (a database can hold several tracks: a
// department's own schema and the contract's). Concurrent callers (several
// replicas starting at once) are serialised with a named lock, so each migration
// runs once.
//
// Errors: FAILED_PRECONDITION if the database records a version newer than the
// newest migration given (the binary is older than the schema: refuse to run);
// INVALID_ARGUMENT if the migrations are not strictly increasing; UNAVAILABLE if
// the database cannot be reached; INTERNAL if a statement fails.
absl::Status ApplyMigrations(ConnectionPool& pool, const std::vector<Migration>& migrations,
                             absl::string_view track = "schema_migrations");

// Splits a migration script into statements at ';' that end a line; comment-only
// and blank pieces are dropped.
std::vector<std::string> SplitSqlStatements(const std::string& sql);

}  // namespace funnel::common
