#include "common/mysql/migrations.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/log.h"

namespace funnel::common {
namespace {

// Each statement names the track's table where it says TRACK.
constexpr absl::string_view kCreateTable = R"sql(
  CREATE TABLE IF NOT EXISTS TRACK (
    version INT NOT NULL PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    applied_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
  ) ENGINE=InnoDB)sql";
constexpr absl::string_view kGetLock = "SELECT GET_LOCK(CONCAT(DATABASE(), '.TRACK'), 60)";
constexpr absl::string_view kReleaseLock = "SELECT RELEASE_LOCK(CONCAT(DATABASE(), '.TRACK'))";
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

absl::Status ApplyMigrations(ConnectionPool& pool, const std::vector<Migration>& migrations,
                             absl::string_view track) {
  for (size_t i = 1; i < migrations.size(); ++i) {
    if (migrations[i].version <= migrations[i - 1].version) {
      return absl::InvalidArgumentError(absl::StrCat("migrations: version ", migrations[i].version,
                                                     " follows ", migrations[i - 1].version,
                                                     "; versions must be strictly increasing"));
    }
  }
  const int newest_known = migrations.empty() ? 0 : migrations.back().version;
  return pool.WithConnection("migrations", [&](sql::Connection& conn) -> absl::Status {
    if (QueryInt(conn, ForTrack(kGetLock, track)) != 1) {
      return absl::UnavailableError("migrations: could not take the migration lock in 60s");
    }
    // The named lock belongs to this session; release it whatever happens.
    struct Unlock {
      sql::Connection& conn;
      const std::string release;
      ~Unlock() {
        try {
          QueryInt(conn, release);
        } catch (const sql::SQLException&) {
        }
      }
    } unlock{conn, ForTrack(kReleaseLock, track)};

    std::unique_ptr<sql::Statement> st(conn.createStatement());
    st->execute(ForTrack(kCreateTable, track));
    const int64_t current = QueryInt(conn, ForTrack(kMaxVersion, track));
    if (current > newest_known) {
      return absl::FailedPreconditionError(absl::StrCat(
          "database schema is at version ", current, " but this binary knows versions up to ",
          newest_known, ": it is older than the database; deploy a newer build"));
    }
    for (const Migration& m : migrations) {
      if (m.version <= current) continue;
      LogInfo("applying migration", {{"track", track}, {"version", m.version}, {"name", m.name}});
      for (const std::string& statement : SplitSqlStatements(m.sql)) {
        st->execute(statement);
      }
      std::unique_ptr<sql::PreparedStatement> rec(conn.prepareStatement(ForTrack(kRecord, track)));
      rec->setInt(1, m.version);
      rec->setString(2, m.name);
      rec->executeUpdate();
    }
    return absl::OkStatus();
  });
}

}  // namespace funnel::common
