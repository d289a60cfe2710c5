#include "common/mysql/migrations.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/mysql/sql_error.h"
#include "common/status.h"

namespace funnel::common {
namespace {

// Each statement names the track's table where it says TRACK.
constexpr absl::string_view kCreateTable = R"sql(
  CREATE TABLE IF NOT EXISTS TRACK (
    version INT NOT NULL PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    applied_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
  ) ENGINE=InnoDB)sql";
// The migration lock: one row, leased by a committed write. GET_LOCK and row locks
// are node-local on a Galera cluster, but a committed UPDATE is certified
// cluster-wide: of two nodes leasing at once, one commit fails (deadlock 1213) and
// that one waits. A lease that runs out (its holder died) can be taken over.
constexpr absl::string_view kCreateLock = R"sql(
  CREATE TABLE IF NOT EXISTS TRACK_lock (
    id TINYINT NOT NULL PRIMARY KEY,
    holder VARCHAR(100) NULL,
    expires_at TIMESTAMP(6) NULL
  ) ENGINE=InnoDB)sql";
constexpr absl::string_view kInsertLockRow = "INSERT IGNORE INTO TRACK_lock (id) VALUES (1)";
constexpr absl::string_view kLease = R"sql(
  UPDATE TRACK_lock SET holder = ?, expires_at = NOW(6) + INTERVAL ? SECOND
  WHERE id = 1 AND (holder IS NULL OR holder = ? OR expires_at < NOW(6)))sql";
constexpr absl::string_view kRelease =
    "UPDATE TRACK_lock SET holder = NULL, expires_at = NULL WHERE id = 1 AND holder = ?";
// Who holds the lease and for how many more seconds, for whoever waits on it.
constexpr absl::string_view kHolder =
    "SELECT COALESCE(holder, ''), TIMESTAMPDIFF(MICROSECOND, NOW(6), expires_at) / 1e6 "
    "FROM TRACK_lock WHERE id = 1";
// How far a migration got: DDL commits statement by statement, so a migrator that
// dies half-way leaves some of a migration applied; the next one resumes after the
// last statement recorded here.
constexpr absl::string_view kCreateProgress = R"sql(
  CREATE TABLE IF NOT EXISTS TRACK_progress (
    version INT NOT NULL PRIMARY KEY,
    statements_done INT NOT NULL
  ) ENGINE=InnoDB)sql";
constexpr absl::string_view kProgressOf =
    "SELECT COALESCE(MAX(statements_done), 0) FROM TRACK_progress WHERE version = ?";
constexpr absl::string_view kSaveProgress =
    "REPLACE INTO TRACK_progress (version, statements_done) VALUES (?, ?)";
constexpr absl::string_view kClearProgress = "DELETE FROM TRACK_progress WHERE version = ?";
// How far a chunked statement got: the next key its next chunk starts at.
constexpr absl::string_view kCreateChunks = R"sql(
  CREATE TABLE IF NOT EXISTS TRACK_chunks (
    version INT NOT NULL,
    statement INT NOT NULL,
    next_key BIGINT NOT NULL,
    PRIMARY KEY (version, statement)
  ) ENGINE=InnoDB)sql";
constexpr absl::string_view kChunkOf =
    "SELECT next_key FROM TRACK_chunks WHERE version = ? AND statement = ?";
constexpr absl::string_view kSaveChunk =
    "REPLACE INTO TRACK_chunks (version, statement, next_key) VALUES (?, ?, ?)";
constexpr absl::string_view kClearChunks = "DELETE FROM TRACK_chunks WHERE version = ?";
constexpr absl::string_view kTableExists =
    "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND "
    "table_name = ?";
constexpr absl::string_view kMaxVersion = "SELECT COALESCE(MAX(version), 0) FROM TRACK";
constexpr absl::string_view kRecord = "INSERT INTO TRACK (version, name) VALUES (?, ?)";

std::string ForTrack(absl::string_view statement, absl::string_view track) {
  return absl::StrReplaceAll(statement, {{"TRACK", track}});
}

bool IsBlankOrComment(absl::string_view piece) {
  for (absl::string_view line : absl::StrSplit(piece, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty() && !absl::StartsWith(line, "--")) return false;
  }
  return true;
}

int64_t QueryInt(sql::Connection& conn, absl::string_view query) {
  std::unique_ptr<sql::Statement> st(conn.createStatement());
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery(std::string(query)));
  return rs->next() ? rs->getInt64(1) : 0;
}

}  // namespace

std::vector<std::string> SplitSqlStatements(const std::string& sql) {
  std::vector<std::string> out;
  std::string current;
  for (absl::string_view line : absl::StrSplit(sql, '\n')) {
    absl::StrAppend(&current, line, "\n");
    if (absl::EndsWith(absl::StripTrailingAsciiWhitespace(line), ";")) {
      if (!IsBlankOrComment(current)) out.push_back(current);
      current.clear();
    }
  }
  if (!IsBlankOrComment(current)) out.push_back(current);
  return out;
}

namespace {

void Execute(sql::Connection& conn, const std::string& statement) {
  std::unique_ptr<sql::Statement> st(conn.createStatement());
  st->execute(statement);
}

constexpr int kPassAttempts = 20;

bool TableExists(sql::Connection& conn, const std::string& table) {
  std::unique_ptr<sql::PreparedStatement> st(conn.prepareStatement(std::string(kTableExists)));
  st->setString(1, table);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  return rs->next() && rs->getInt(1) > 0;
}

// Errors a DDL statement gives when it was already applied: what re-running the
// statement a dead migrator began answers (DDL commits on its own, so its progress
// record may be missing).
bool AlreadyApplied(const sql::SQLException& e) {
  switch (e.getErrorCode()) {
    case 1050:  // ER_TABLE_EXISTS_ERROR
    case 1051:  // ER_BAD_TABLE_ERROR (dropped already)
    case 1060:  // ER_DUP_FIELDNAME
    case 1061:  // ER_DUP_KEYNAME
    case 1091:  // ER_CANT_DROP_FIELD_OR_KEY
    case 1826:  // ER_FK_DUP_NAME
      return true;
    default:
      return false;
  }
}

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "unknown";
  return std::string(name).substr(0, 40);
}

// The lease on TRACK_lock, taken by Take and given back when destroyed.
class MigrationLease {
 public:
  MigrationLease(sql::Connection& conn, absl::string_view track, const MigrationOptions& options)
      : conn_(conn),
        track_(track),
        lease_(ForTrack(kLease, track)),
        release_(ForTrack(kRelease, track)),
        holder_query_(ForTrack(kHolder, track)),
        holder_(absl::StrCat(NewUuid(), " ", options.holder, "@", HostName()).substr(0, 100)),
        seconds_(std::max<int64_t>(1, absl::ToInt64Seconds(options.lease))) {}
  ~MigrationLease() {
    if (!held_) return;
    try {
      std::unique_ptr<sql::PreparedStatement> st(conn_.prepareStatement(release_));
      st->setString(1, holder_);
      st->executeUpdate();
    } catch (const sql::SQLException&) {
      // Unreleased, it runs out after the lease.
    }
  }

  // Waits up to `wait` for the lease, saying in the log whom it waits for (a
  // migrator killed mid-pass holds it until its lease runs out).
  absl::Status Take(absl::Duration wait) {
    const absl::Time start = absl::Now();
    const absl::Time give_up = start + wait;
    absl::Time next_report = start;
    while (!TryRenew()) {
      if (absl::Now() > give_up) {
        return absl::UnavailableError(
            absl::StrCat("migrations: another migrator has held the migration lock for ",
                         absl::FormatDuration(wait), " (", Holder(),
                         "); is one stuck? its lease runs out by itself"));
      }
      if (absl::Now() >= next_report) {
        // Replicas starting together wait briefly for each other; a long wait is news.
        Log(absl::Now() - start < absl::Seconds(10) ? "info" : "warning",
            "waiting for the migration lock", {{"track", track_}, {"lock", Holder()}});
        next_report = absl::Now() + absl::Seconds(10);
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    held_ = true;
    return absl::OkStatus();
  }

  // Extends the lease (or takes a free one); false when another holder has it. In
  // the connection's current transaction, if one is open, whose conflicts (1213)
  // it throws for the caller to start over.
  bool Renew() {
    std::unique_ptr<sql::PreparedStatement> st(conn_.prepareStatement(lease_));
    st->setString(1, holder_);
    st->setInt64(2, seconds_);
    st->setString(3, holder_);
    return st->executeUpdate() == 1;
  }

 private:
  // "held by H for N more seconds", as far as the database says.
  std::string Holder() {
    try {
      std::unique_ptr<sql::Statement> st(conn_.createStatement());
      std::unique_ptr<sql::ResultSet> rs(st->executeQuery(holder_query_));
      if (!rs->next()) return "holder unknown";
      const double left = rs->isNull(2) ? 0 : rs->getDouble(2);
      return absl::StrCat("held by ", std::string(rs->getString(1)), " for ",
                          absl::FormatDuration(absl::Seconds(std::max(0.0, left))), " more");
    } catch (const sql::SQLException&) {
      return "holder unknown";
    }
  }

  // Renew, where losing a conflict to another node's lease means "not now".
  bool TryRenew() {
    try {
      return Renew();
    } catch (const sql::SQLException& e) {
      if (IsRetryableTransactionError(e)) return false;
      throw;
    }
  }

  sql::Connection& conn_;
  const std::string track_;
  const std::string lease_;
  const std::string release_;
  const std::string holder_query_;
  const std::string holder_;
  const int64_t seconds_;
  bool held_ = false;
};

// Thrown inside a chunk's transaction when another migrator has the lease.
struct LostLease {};

// Runs `fn` between START TRANSACTION and COMMIT (ROLLBACK if it throws), leaving
// the connection in autocommit.
template <typename Fn>
void InOneTransaction(sql::Connection& conn, Fn fn) {
  Execute(conn, "START TRANSACTION");
  try {
    fn();
  } catch (...) {
    try {
      Execute(conn, "ROLLBACK");
    } catch (const sql::SQLException&) {
    }
    throw;
  }
  Execute(conn, "COMMIT");
}

void SaveProgress(sql::Connection& conn, absl::string_view track, int version, int done) {
  std::unique_ptr<sql::PreparedStatement> st(conn.prepareStatement(ForTrack(kSaveProgress, track)));
  st->setInt(1, version);
  st->setInt(2, done);
  st->executeUpdate();
}

// A statement that runs in chunks of its key's range, each chunk its own
// transaction: a backfill over a large table as one transaction would be one write
// set far past what Galera replicates well (and one long lock everywhere).
struct Chunking {
  std::string table;
  std::string column;
  int64_t rows = 0;
};

// "-- funnel:chunk TABLE.COLUMN ROWS" on a line of the statement; the statement
// names the chunk's range [{lo}, {hi}).
std::optional<Chunking> ChunkingOf(const std::string& statement) {
  static constexpr absl::string_view kDirective = "-- funnel:chunk ";
  for (absl::string_view line : absl::StrSplit(statement, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, kDirective)) continue;
    std::vector<std::string> parts = absl::StrSplit(line, absl::ByAnyChar(" ."), absl::SkipEmpty());
    Chunking c;
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[2], &c.rows) || c.rows <= 0)
      return std::nullopt;
    c.table = parts[0];
    c.column = parts[1];
    return c;
  }
  return std::nullopt;
}

// Runs a chunked statement from the chunk its record names, each chunk in one
// transaction with its record (so each runs once, whatever dies when).
void ApplyChunked(sql::Connection& conn, absl::string_view track, const Migration& m, int index,
                  const std::string& statement, const Chunking& c, MigrationLease& lease) {
  int64_t lo = 0, last = 0;
  {
    std::unique_ptr<sql::Statement> st(conn.createStatement());
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery(
        absl::StrCat("SELECT MIN(", c.column, "), MAX(", c.column, ") FROM ", c.table)));
    if (!rs->next() || rs->isNull(1)) return;  // nothing to backfill
    lo = rs->getInt64(1);
    last = rs->getInt64(2);
  }
  {
    std::unique_ptr<sql::PreparedStatement> st(conn.prepareStatement(ForTrack(kChunkOf, track)));
    st->setInt(1, m.version);
    st->setInt(2, index);
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    if (rs->next()) lo = std::max(lo, rs->getInt64(1));
  }
  for (; lo <= last; lo += c.rows) {
    const int64_t hi = lo + c.rows;
    InOneTransaction(conn, [&] {
      if (!lease.Renew()) throw LostLease();
      Execute(conn, absl::StrReplaceAll(statement,
                                        {{"{lo}", absl::StrCat(lo)}, {"{hi}", absl::StrCat(hi)}}));
      std::unique_ptr<sql::PreparedStatement> save(
          conn.prepareStatement(ForTrack(kSaveChunk, track)));
      save->setInt(1, m.version);
      save->setInt(2, index);
      save->setInt64(3, hi);
      save->executeUpdate();
    });
  }
}

// Applies `m` from the statement its progress record names, each statement with
// its progress committed: DML in one transaction with its record, DDL (which
// commits on its own) between two records.
absl::Status ApplyOne(sql::Connection& conn, absl::string_view track, const Migration& m,
                      MigrationLease& lease) {
  const std::vector<std::string> statements = SplitSqlStatements(m.sql);
  int done = 0;
  {
    std::unique_ptr<sql::PreparedStatement> st(conn.prepareStatement(ForTrack(kProgressOf, track)));
    st->setInt(1, m.version);
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    if (rs->next()) done = rs->getInt(1);
  }
  // A record of "begun" is statements_done = -(i + 1): statement i may have been
  // applied by a migrator that died before recording it.
  const bool begun = done < 0;
  if (begun) done = -done - 1;
  if (done > 0 || begun) {
    LogInfo("resuming migration", {{"track", track}, {"version", m.version}, {"statement", done}});
  }
  for (int i = done; i < static_cast<int>(statements.size()); ++i) {
    bool leased = true;
    InOneTransaction(conn, [&] {
      leased = lease.Renew();
      if (leased) SaveProgress(conn, track, m.version, -(i + 1));
    });
    if (!leased) {
      return absl::UnavailableError("migrations: lost the migration lock to another migrator");
    }
    if (std::optional<Chunking> chunking = ChunkingOf(statements[i])) {
      try {
        ApplyChunked(conn, track, m, i, statements[i], *chunking, lease);
      } catch (const LostLease&) {
        return absl::UnavailableError("migrations: lost the migration lock to another migrator");
      }
      InOneTransaction(conn, [&] { SaveProgress(conn, track, m.version, i + 1); });
      continue;
    }
    // DML runs in a transaction with its progress record; DDL commits on its own.
    InOneTransaction(conn, [&] {
      try {
        Execute(conn, statements[i]);
      } catch (const sql::SQLException& e) {
        if (!(begun && i == done && AlreadyApplied(e))) throw;
        LogInfo("migration statement was already applied",
                {{"track", track}, {"version", m.version}, {"statement", i}});
      }
      SaveProgress(conn, track, m.version, i + 1);
    });
  }
  InOneTransaction(conn, [&] {
    std::unique_ptr<sql::PreparedStatement> rec(conn.prepareStatement(ForTrack(kRecord, track)));
    rec->setInt(1, m.version);
    rec->setString(2, m.name);
    rec->executeUpdate();
    for (absl::string_view clear_sql : {kClearProgress, kClearChunks}) {
      std::unique_ptr<sql::PreparedStatement> clear(
          conn.prepareStatement(ForTrack(clear_sql, track)));
      clear->setInt(1, m.version);
      clear->executeUpdate();
    }
  });
  return absl::OkStatus();
}

// One pass: the tracking tables, the lease, every pending migration.
absl::Status MigrateOnce(sql::Connection& conn, const std::vector<Migration>& migrations,
                         absl::string_view track, const MigrationOptions& options) {
  // Only what is missing: on Galera even a CREATE TABLE IF NOT EXISTS of a table
  // that exists is replicated in total order and aborts the transactions that
  // touch the table on every node, such as a migrator's at work.
  for (const auto& [table, create] : {std::pair{absl::StrCat(track), kCreateTable},
                                      std::pair{absl::StrCat(track, "_lock"), kCreateLock},
                                      std::pair{absl::StrCat(track, "_progress"), kCreateProgress},
                                      std::pair{absl::StrCat(track, "_chunks"), kCreateChunks}}) {
    if (!TableExists(conn, table)) Execute(conn, ForTrack(create, track));
  }
  Execute(conn, ForTrack(kInsertLockRow, track));
  MigrationLease lease(conn, track, options);
  RETURN_IF_ERROR(lease.Take(options.max_wait));
  const int newest_known = migrations.empty() ? 0 : migrations.back().version;
  const int64_t current = QueryInt(conn, ForTrack(kMaxVersion, track));
  if (current > newest_known) {
    return absl::FailedPreconditionError(absl::StrCat(
        "database schema is at version ", current, " but this binary knows versions up to ",
        newest_known, ": it is older than the database; deploy a newer build"));
  }
  for (const Migration& m : migrations) {
    if (m.version <= current) continue;
    LogInfo("applying migration", {{"track", track}, {"version", m.version}, {"name", m.name}});
    RETURN_IF_ERROR(ApplyOne(conn, track, m, lease));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyMigrations(ConnectionPool& pool, const std::vector<Migration>& migrations,
                             absl::string_view track, const MigrationOptions& options) {
  for (size_t i = 1; i < migrations.size(); ++i) {
    if (migrations[i].version <= migrations[i - 1].version) {
      return absl::InvalidArgumentError(absl::StrCat("migrations: version ", migrations[i].version,
                                                     " follows ", migrations[i - 1].version,
                                                     "; versions must be strictly increasing"));
    }
  }
  return pool.WithConnection("migrations", [&](sql::Connection& conn) -> absl::Status {
    // A conflict (deadlock 1213: on Galera, another node's commit or DDL won
    // certification) rolls back one step; every step is idempotent or recorded, so
    // the whole pass starts again, lease and all, and goes on from the records.
    for (int attempt = 1;; ++attempt) {
      try {
        return MigrateOnce(conn, migrations, track, options);
      } catch (const sql::SQLException& e) {
        if (!IsRetryableTransactionError(e) || attempt >= kPassAttempts) throw;
        LogInfo("migration pass conflicted; starting it again",
                {{"track", track}, {"attempt", attempt}});
        absl::SleepFor(absl::Milliseconds(20 * attempt));
      }
    }
  });
}

}  // namespace funnel::common
