#pragma once

// Versioned schema migrations. Each service ships migrations/NNN_name.sql, embedded
// in its binary at build time (cmake/FunnelProto.cmake: funnel_embed_migrations),
// and applies the pending ones in order at start-up, recording each in the
// schema_migrations table.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/mysql/pool.h"

namespace funnel::common {

struct Migration {
  int version;       // NNN from the file name; strictly increasing.
  std::string name;  // the rest of the file name, for the record.
  std::string sql;   // statements separated by ';' at the end of a line.
};

struct MigrationOptions {
  // Who migrates, for the lock's record (a UUID is added to it).
  std::string holder = "migrator";
  // How long a migrator's lock lasts without being renewed (it is renewed before
  // every statement): a migrator that dies gives the lock up after this.
  absl::Duration lease = absl::Seconds(120);
  // How long to wait for another migrator to finish.
  absl::Duration max_wait = absl::Minutes(5);
};

// Applies every migration newer than the database's recorded version, in order,
// recording each in the table `track` (a database can hold several tracks: a
// department's own schema and the contract's).
//
// Safe on a Galera cluster as on one server: concurrent migrators (replicas
// starting at once on different nodes) are serialised by a lease row,
// TRACK_lock, that each takes with a committed write (named locks and row locks
// are node-local on Galera; a commit is certified cluster-wide), so each migration
// runs once. Resumable: each statement's progress is recorded (TRACK_progress), so
// a migrator that died half-way through a multi-statement migration (DDL commits
// statement by statement) is continued from the statement it was running.
//
// A backfill over a large table runs in chunks when its statement carries
// "-- funnel:chunk TABLE.COLUMN ROWS": it is run for each range [{lo}, {hi}) of ROWS
// keys from MIN(COLUMN) to MAX(COLUMN) of TABLE, each chunk in its own transaction
// with its progress (TRACK_chunks), so no write set is the whole table (Galera
// replicates large ones badly) and a resumed migration goes on from the next chunk.
// A chunked statement must be correct summed over chunks (aggregates add up with
// ON DUPLICATE KEY UPDATE).
//
// Errors: FAILED_PRECONDITION if the database records a version newer than the
// newest migration given (the binary is older than the schema: refuse to run);
// INVALID_ARGUMENT if the migrations are not strictly increasing; UNAVAILABLE if
// the database cannot be reached or another migrator holds the lock past
// `max_wait`; INTERNAL if a statement fails.
absl::Status ApplyMigrations(ConnectionPool& pool, const std::vector<Migration>& migrations,
                             absl::string_view track = "schema_migrations",
                             const MigrationOptions& options = {});

// Splits a migration script into statements at ';' that end a line; comment-only
// and blank pieces are dropped.
std::vector<std::string> SplitSqlStatements(const std::string& sql);

}  // namespace funnel::common
