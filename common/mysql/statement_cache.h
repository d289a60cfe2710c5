#pragma once

// Server-side prepared statements kept per pooled connection, so a statement the
// service runs again is executed, not prepared (parsed, answered with metadata) and
// closed every time: one round trip per statement instead of two, and no parse.
//
// Store code does not see the cache: common::Prepare(conn, sql) takes the cached
// statement when `conn` is the connection the pool lent to this thread (inside
// WithConnection / InTransaction) and a fresh one otherwise. The handle puts the
// statement back (parameters cleared) when it is destroyed.
//
// The one rule: a result set must not outlive its statement handle. A Connector/C++
// 1.1 result set frees its statement's result when closed, so one left open while
// the statement runs again would free the new result. Declaring the result set after
// the statement (destroyed first) keeps to it.

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>

#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace funnel::common {

class StatementCache;

// Puts a statement back into the cache it came from (or deletes it when it came
// from none, or the cache was closed with its connection).
struct StatementReturn {
  std::shared_ptr<StatementCache> cache;
  std::string sql;
  void operator()(sql::PreparedStatement* statement) const;
};

using Statement = std::unique_ptr<sql::PreparedStatement, StatementReturn>;

class StatementCache final {
 public:
  // Keeps at most `capacity` idle statements, dropping the least recently used
  // (queries with IN lists have one text per list length).
  explicit StatementCache(size_t capacity = 64) : capacity_(capacity) {}
  ~StatementCache() { Close(); }
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  // The idle statement for `sql`, or nullptr (the caller prepares one).
  std::unique_ptr<sql::PreparedStatement> Take(const std::string& sql);
  void Give(std::string sql, std::unique_ptr<sql::PreparedStatement> statement);
  // Deletes every idle statement; later Gives delete theirs. Runs before the
  // connection closes (a statement is closed on the connection it belongs to).
  void Close();

  size_t idle() const;

 private:
  using Entry = std::pair<std::string, std::unique_ptr<sql::PreparedStatement>>;

  const size_t capacity_;
  mutable absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::list<Entry> lru_ ABSL_GUARDED_BY(mu_);  // most recently used first
  // Keyed by the text held in the entry (std::list entries do not move): a text,
  // which for a multi-row statement runs to tens of kilobytes, is stored once.
  absl::flat_hash_map<absl::string_view, std::list<Entry>::iterator> by_sql_ ABSL_GUARDED_BY(mu_);
};

// Marks `conn` as this thread's loaned connection with its cache for the scope's
// lifetime (restoring the previous one after, for nested loans). The pool uses it.
class ScopedStatementCache final {
 public:
  ScopedStatementCache(sql::Connection* conn, std::shared_ptr<StatementCache> cache);
  ~ScopedStatementCache();
  ScopedStatementCache(const ScopedStatementCache&) = delete;
  ScopedStatementCache& operator=(const ScopedStatementCache&) = delete;

 private:
  sql::Connection* const previous_conn_;
  std::shared_ptr<StatementCache> previous_cache_;
};

// A prepared statement for `sql` on `conn`, cached as described above.
Statement Prepare(sql::Connection& conn, absl::string_view sql);

}  // namespace funnel::common
