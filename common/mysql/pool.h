#pragma once

// A bounded pool of MySQL connections over Connector/C++ 1.1.
//
// Connections are created lazily up to `size`, checked with a ping before reuse when
// they have been idle a while, and dropped when an error shows the server went away,
// so the pool recovers by itself after a server restart. Given several nodes of a
// Galera cluster, it connects to the first that is reachable and ready, and moves to
// another when the one it uses fails. Callers run their work
// through WithConnection / InTransaction, which translate Connector exceptions into
// absl::Status and retry deadlocked transactions. Each connection keeps its prepared
// statements (statement_cache.h) for the work run through those two.
//
// The errors every store method may return, so store headers name only their own:
// UNAVAILABLE when the database cannot be reached (or a commit's fate is unknown:
// retry with the same request_id), DEADLINE_EXCEEDED when the call's deadline comes
// first, INTERNAL for a database error nobody expected. A method taking a
// request_id also returns INVALID_ARGUMENT "request_id: ..." for a malformed id or
// one used for another request (idempotency.h); a listing, INVALID_ARGUMENT
// "page_token: ..." for a token of another listing (pagination.h).

#include <cppconn/connection.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/mysql/statement_cache.h"

namespace funnel::common {

struct DbOptions {
  std::string host = "127.0.0.1";
  int port = 3306;
  // Further nodes of the same Galera cluster ("host:port"), tried in turn when the
  // node in use cannot be reached or is not part of the primary component. With
  // any, each connection checks wsrep_ready and reads causally (wsrep_sync_wait),
  // so a read on another node after a failover sees what was committed before it.
  std::vector<std::string> other_nodes;
  // How long a node that failed is passed over while others remain.
  absl::Duration node_retry_after = absl::Seconds(5);
  std::string user;
  std::string password;
  std::string database;
  // Most connections open at once; Acquire waits when all are lent.
  int pool_size = 8;
  // How long Acquire waits for a free connection before UNAVAILABLE.
  absl::Duration acquire_timeout = absl::Seconds(5);
  // Connect timeout and per-statement socket read/write timeouts.
  absl::Duration connect_timeout = absl::Seconds(2);
  absl::Duration io_timeout = absl::Seconds(10);
  // A connection idle longer than this is pinged before it is lent again.
  absl::Duration validate_after_idle = absl::Seconds(1);
  // Attempts for a transaction that hits a deadlock or lock-wait timeout.
  int max_transaction_attempts = 5;
};

// Sets options.host/port and other_nodes from a list of cluster nodes,
// "host:port,host:port,...", the first tried first. INVALID_ARGUMENT names a bad entry.
absl::Status SetNodes(absl::string_view nodes, DbOptions& options);

class ConnectionPool;

// A connection and the statements prepared on it, which live and die with it.
struct PoolSession {
  std::unique_ptr<sql::Connection> conn;
  std::shared_ptr<StatementCache> statements;
  // The session's max_statement_time in whole seconds (0: none), as last set.
  int64_t statement_limit_s = 0;
  // Index of the node it is connected to (DbOptions: host first, then other_nodes).
  int node = 0;
};

// A connection on loan from the pool; returns it when destroyed.
class PooledConnection final {
 public:
  PooledConnection(PooledConnection&& other) noexcept;
  PooledConnection& operator=(PooledConnection&&) = delete;
  ~PooledConnection();

  sql::Connection* operator->() const { return session_.conn.get(); }
  sql::Connection& operator*() const { return *session_.conn; }
  // Closes the connection instead of returning it (after a connection error).
  void Discard() { discard_ = true; }
  int node() const { return session_.node; }
  const std::shared_ptr<StatementCache>& statements() const { return session_.statements; }
  int64_t& statement_limit_s() { return session_.statement_limit_s; }

 private:
  friend class ConnectionPool;
  PooledConnection(ConnectionPool* pool, PoolSession session)
      : pool_(pool), session_(std::move(session)) {}

  ConnectionPool* pool_;
  PoolSession session_;
  bool discard_ = false;
};

class ConnectionPool final {
 public:
  // Connector/C++'s driver singleton is not thread-safe on first use: call this
  // once from main (and test setup) before any thread uses a pool.
  static void InitDriver();

  explicit ConnectionPool(DbOptions options);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Lends a connection. UNAVAILABLE if the server cannot be reached or no
  // connection frees up within acquire_timeout (DEADLINE_EXCEEDED when the current
  // call's deadline comes first).
  absl::StatusOr<PooledConnection> Acquire();

  // Runs `fn` on a connection in autocommit mode. A sql::SQLException thrown by
  // `fn` becomes a status (see StatusFromSqlException) named by `context`.
  absl::Status WithConnection(absl::string_view context,
                              const std::function<absl::Status(sql::Connection&)>& fn);

  // Runs `fn` in one transaction: commits when it returns OK, rolls back when it
  // returns an error or throws. A connection lost before the commit was sent (its node
  // died: the server rolled the transaction back) reruns `fn` on another connection;
  // one lost during the commit is UNAVAILABLE, as its outcome is unknown. Bounded by the current
  // call's deadline (call_deadline.h): each statement by MariaDB's max_statement_time, and a
  // transaction that finishes after the deadline is rolled back, never committed
  // (DEADLINE_EXCEEDED), so a caller told its call failed never finds it applied. A deadlock or
  // lock-wait timeout reruns `fn` from the start (so `fn` must not keep state across attempts), up
  // to max_transaction_attempts, with a short jittered backoff. With `read_committed`, the
  // transaction's locking reads take no gap locks (for work queues claimed with FOR UPDATE SKIP
  // LOCKED, which must not block inserts of new work while the claim is held).
  absl::Status InTransaction(absl::string_view context,
                             const std::function<absl::Status(sql::Connection&)>& fn,
                             bool read_committed = false);

  // Runs `fn` on the committing thread after each transaction that committed: a
  // doorbell for work that follows commits (the change feed's sequencer). Set
  // once, before any thread uses the pool.
  void SetAfterCommit(std::function<void()> fn) { after_commit_ = std::move(fn); }

  // OK when the server answers a trivial query.
  absl::Status Ping();

  const DbOptions& options() const { return options_; }

  // Connections currently open (lent plus idle); for tests and stats.
  int open_connections() const;

 private:
  friend class PooledConnection;
  struct Idle {
    PoolSession session;
    absl::Time since;
  };

  struct Node {
    std::string host;
    int port = 0;
  };
  static std::vector<Node> NodesOf(const DbOptions& options);

  // Connects to the node in use or, failing that, to the next that answers.
  absl::StatusOr<PoolSession> Connect();
  absl::StatusOr<std::unique_ptr<sql::Connection>> ConnectTo(const Node& node);
  // Passes over `node` for a while and moves new connections to the next one.
  void NodeFailed(int node);
  void Return(PoolSession session, bool discard);

  const DbOptions options_;
  std::function<void()> after_commit_;
  const std::vector<Node> nodes_;  // options_.host, then other_nodes
  // The pool's Prometheus figures (pool.cc), labelled with its database.
  struct Metrics;
  const std::unique_ptr<Metrics> metrics_;
  mutable absl::Mutex mu_;
  std::deque<Idle> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  // When each of nodes_ last failed, and the one new connections go to first.
  std::vector<absl::Time> node_failed_at_ ABSL_GUARDED_BY(mu_);
  int current_node_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace funnel::common
