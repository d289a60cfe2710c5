#include "common/mysql/pool.h"

#include <cppconn/exception.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <mysql_driver.h>

#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/call_deadline.h"
#include "common/metrics.h"
#include "common/mysql/sql_error.h"

namespace funnel::common {

PooledConnection::PooledConnection(PooledConnection&& other) noexcept
    : pool_(other.pool_), session_(std::move(other.session_)), discard_(other.discard_) {
  other.pool_ = nullptr;
}

PooledConnection::~PooledConnection() {
  if (pool_ != nullptr && session_.conn != nullptr) pool_->Return(std::move(session_), discard_);
}

struct ConnectionPool::Metrics {
  explicit Metrics(const std::string& database)
      : size(GaugeFamily("funnel_db_pool_size_connections",
                         "Most connections the pool may open, by database.")
                 .Add({{"database", database}})),
        open(GaugeFamily("funnel_db_pool_open_connections", "Connections open, lent or idle.")
                 .Add({{"database", database}})),
        in_use(GaugeFamily("funnel_db_pool_in_use_connections", "Connections lent out now.")
                   .Add({{"database", database}})),
        waiters(GaugeFamily("funnel_db_pool_waiters", "Callers waiting for a connection now.")
                    .Add({{"database", database}})),
        wait(HistogramFamily("funnel_db_pool_wait_seconds",
                             "Time a caller waited for a connection to be lent.")
                 .Add({{"database", database}}, LatencyBuckets())),
        retries(CounterFamily(
                    "funnel_db_transaction_retries_total",
                    "Transactions rerun after a deadlock, lock-wait timeout or lost connection.")
                    .Add({{"database", database}})) {}
  prometheus::Gauge& size;
  prometheus::Gauge& open;
  prometheus::Gauge& in_use;
  prometheus::Gauge& waiters;
  prometheus::Histogram& wait;
  prometheus::Counter& retries;
};

namespace {

// "host:port" into its parts; false when it is not one.
bool ParseNode(absl::string_view entry, std::string* host, int* port) {
  const size_t colon = entry.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) return false;
  if (!absl::SimpleAtoi(entry.substr(colon + 1), port) || *port <= 0 || *port > 65535) return false;
  *host = std::string(entry.substr(0, colon));
  return true;
}

}  // namespace

absl::Status SetNodes(absl::string_view nodes, DbOptions& options) {
  std::vector<std::string> all;
  for (absl::string_view entry : absl::StrSplit(nodes, ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    std::string host;
    int port = 0;
    if (!ParseNode(entry, &host, &port)) {
      return absl::InvalidArgumentError(absl::StrCat("db_hosts: \"", entry, "\" is not host:port"));
    }
    all.emplace_back(entry);
  }
  if (all.empty()) return absl::InvalidArgumentError("db_hosts: no node given");
  ParseNode(all[0], &options.host, &options.port);
  options.other_nodes.assign(all.begin() + 1, all.end());
  return absl::OkStatus();
}

void ConnectionPool::InitDriver() { sql::mysql::get_mysql_driver_instance(); }

std::vector<ConnectionPool::Node> ConnectionPool::NodesOf(const DbOptions& options) {
  std::vector<ConnectionPool::Node> nodes = {{options.host, options.port}};
  for (const std::string& other : options.other_nodes) {
    Node node;
    if (ParseNode(other, &node.host, &node.port)) nodes.push_back(std::move(node));
  }
  return nodes;
}

ConnectionPool::ConnectionPool(DbOptions options)
    : options_(std::move(options)),
      nodes_(NodesOf(options_)),
      metrics_(std::make_unique<Metrics>(options_.database)),
      node_failed_at_(nodes_.size(), absl::InfinitePast()) {
  metrics_->size.Increment(options_.pool_size);
}

ConnectionPool::~ConnectionPool() {
  absl::MutexLock lock(&mu_);
  for (Idle& idle : idle_) idle.session.statements->Close();  // before their connections
  metrics_->open.Decrement(static_cast<double>(idle_.size()));
  metrics_->size.Decrement(options_.pool_size);
  idle_.clear();
}

int ConnectionPool::open_connections() const {
  absl::MutexLock lock(&mu_);
  return open_;
}

absl::StatusOr<std::unique_ptr<sql::Connection>> ConnectionPool::ConnectTo(const Node& node) {
  sql::ConnectOptionsMap props;
  props["hostName"] = absl::StrCat("tcp://", node.host, ":", node.port);
  props["userName"] = options_.user;
  props["password"] = options_.password;
  props["schema"] = options_.database;
  const int connect_s = std::max<int>(1, absl::ToInt64Seconds(options_.connect_timeout));
  const int io_s = std::max<int>(1, absl::ToInt64Seconds(options_.io_timeout));
  props["OPT_CONNECT_TIMEOUT"] = connect_s;
  props["OPT_READ_TIMEOUT"] = io_s;
  props["OPT_WRITE_TIMEOUT"] = io_s;
  // Reconnecting under a caller's feet would silently drop its session state
  // (an open transaction); the pool replaces broken connections instead.
  props["OPT_RECONNECT"] = false;
  props["OPT_CHARSET_NAME"] = "utf8mb4";
  const std::string context = absl::StrCat("connect to ", options_.database);
  try {
    std::unique_ptr<sql::Connection> conn(sql::mysql::get_mysql_driver_instance()->connect(props));
    std::unique_ptr<sql::Statement> st(conn->createStatement());
    // Timestamps are stored and read in UTC whatever the server's zone.
    st->execute("SET time_zone = '+00:00'");
    if (nodes_.size() > 1) {
      // A list of servers that are not cluster nodes is served as it is.
      std::unique_ptr<sql::ResultSet> on(st->executeQuery("SELECT @@GLOBAL.wsrep_on"));
      if (on->next() && on->getInt(1) == 1) {
        // A node outside the primary component (cut off, or still joining) accepts
        // connections but refuses queries: use another.
        std::unique_ptr<sql::ResultSet> ready(st->executeQuery("SHOW STATUS LIKE 'wsrep_ready'"));
        if (!ready->next() || ready->getString(2) != "ON") {
          return absl::UnavailableError(absl::StrCat(context, ": node ", node.host, ":", node.port,
                                                     " is not ready (wsrep_ready)"));
        }
        // Reads wait until the node has applied everything the cluster committed
        // before them, so a read after a failover sees the writes made on the old node.
        st->execute("SET SESSION wsrep_sync_wait = 1");
      }
    }
    return conn;
  } catch (const sql::SQLException& e) {
    return StatusFromSqlException(e, context);
  }
}

absl::StatusOr<PoolSession> ConnectionPool::Connect() {
  std::vector<std::pair<int, Node>> order;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    const int n = static_cast<int>(nodes_.size());
    // The node in use first, then the others in turn; nodes that failed lately last.
    for (bool recent_failures : {false, true}) {
      for (int k = 0; k < n; ++k) {
        const int i = (current_node_ + k) % n;
        const bool failed = now - node_failed_at_[i] < options_.node_retry_after;
        if (failed == recent_failures) order.emplace_back(i, nodes_[i]);
      }
    }
  }
  absl::Status last;
  for (const auto& [index, node] : order) {
    absl::StatusOr<std::unique_ptr<sql::Connection>> conn = ConnectTo(node);
    if (conn.ok()) {
      absl::MutexLock lock(&mu_);
      current_node_ = index;
      return PoolSession{*std::move(conn), std::make_shared<StatementCache>(), 0, index};
    }
    last = conn.status();
    // Only a node that cannot serve is passed over; a refused login is the same everywhere.
    if (!absl::IsUnavailable(last)) return last;
    if (order.size() > 1) NodeFailed(index);
  }
  return last;
}

void ConnectionPool::NodeFailed(int node) {
  absl::MutexLock lock(&mu_);
  if (nodes_.size() < 2) return;
  node_failed_at_[node] = absl::Now();
  if (current_node_ == node) current_node_ = (node + 1) % static_cast<int>(nodes_.size());
}

absl::StatusOr<PooledConnection> ConnectionPool::Acquire() {
  const absl::Time call_deadline = CurrentCallDeadline();
  const absl::Time start = absl::Now();
  const absl::Time deadline = std::min(start + options_.acquire_timeout, call_deadline);
  while (true) {
    PoolSession session;
    absl::Time idle_since;
    bool may_open = false;
    {
      absl::MutexLock lock(&mu_);
      auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !idle_.empty() || open_ < options_.pool_size;
      };
      metrics_->waiters.Increment();
      const bool got = mu_.AwaitWithDeadline(absl::Condition(&available), deadline);
      metrics_->waiters.Decrement();
      metrics_->wait.Observe(absl::ToDoubleSeconds(absl::Now() - start));
      if (!got) {
        if (deadline == call_deadline) {
          return absl::DeadlineExceededError(
              "the call's deadline passed while waiting for a database connection");
        }
        return absl::UnavailableError(absl::StrCat("database connection pool exhausted: all ",
                                                   options_.pool_size, " connections busy for ",
                                                   absl::FormatDuration(options_.acquire_timeout)));
      }
      if (!idle_.empty()) {
        // Most recently used first: it is the likeliest to be alive and warm.
        session = std::move(idle_.back().session);
        idle_since = idle_.back().since;
        idle_.pop_back();
        metrics_->in_use.Increment();
      } else {
        ++open_;  // Reserve the slot before connecting outside the lock.
        may_open = true;
      }
    }
    if (may_open) {
      absl::StatusOr<PoolSession> fresh = Connect();
      if (!fresh.ok()) {
        absl::MutexLock lock(&mu_);
        --open_;
        return fresh.status();
      }
      metrics_->open.Increment();
      metrics_->in_use.Increment();
      return PooledConnection(this, *std::move(fresh));
    }
    bool valid = true;
    if (absl::Now() - idle_since > options_.validate_after_idle) {
      try {
        valid = session.conn->isValid();
      } catch (const sql::SQLException&) {
        valid = false;
      }
    }
    if (valid) return PooledConnection(this, std::move(session));
    // The server went away (restart, timeout): drop it and try the next one.
    Return(std::move(session), /*discard=*/true);
  }
}

void ConnectionPool::Return(PoolSession session, bool discard) {
  if (!discard) {
    try {
      discard = session.conn->isClosed();
    } catch (const sql::SQLException&) {
      discard = true;
    }
  }
  if (discard) {
    session.statements->Close();  // before the connection they belong to
    try {
      session.conn->close();
    } catch (const sql::SQLException&) {
      // Closing an already broken connection may throw; it is gone either way.
    }
    session.conn.reset();
  }
  absl::MutexLock lock(&mu_);
  metrics_->in_use.Decrement();
  if (discard) {
    --open_;
    metrics_->open.Decrement();
  } else {
    idle_.push_back({std::move(session), absl::Now()});
  }
}

namespace {

// MariaDB's max_statement_time for the session: the seconds left until `deadline`
// (rounded up, at least 1), or none. Set only when it changes, as a session
// variable outlives the call.
void BoundStatements(sql::Connection& conn, int64_t& current_s, absl::Time deadline) {
  int64_t want_s = 0;
  if (deadline != absl::InfiniteFuture()) {
    want_s = std::max<int64_t>(
        1, absl::ToInt64Seconds(absl::Ceil(deadline - absl::Now(), absl::Seconds(1))));
  }
  if (want_s == current_s) return;
  std::unique_ptr<sql::Statement> st(conn.createStatement());
  st->execute(absl::StrCat("SET SESSION max_statement_time = ", want_s));
  current_s = want_s;
}

}  // namespace

absl::Status ConnectionPool::WithConnection(
    absl::string_view context, const std::function<absl::Status(sql::Connection&)>& fn) {
  absl::StatusOr<PooledConnection> conn = Acquire();
  if (!conn.ok()) return conn.status();
  ScopedStatementCache statements(&**conn, conn->statements());
  try {
    BoundStatements(**conn, conn->statement_limit_s(), CurrentCallDeadline());
    return fn(**conn);
  } catch (const sql::SQLException& e) {
    absl::Status status = StatusFromSqlException(e, context);
    if (absl::IsUnavailable(status)) {
      conn->Discard();
      NodeFailed(conn->node());
    }
    return status;
  }
}

absl::Status ConnectionPool::InTransaction(absl::string_view context,
                                           const std::function<absl::Status(sql::Connection&)>& fn,
                                           bool read_committed) {
  absl::Status last;
  for (int attempt = 1; attempt <= options_.max_transaction_attempts; ++attempt) {
    absl::StatusOr<PooledConnection> conn = Acquire();
    if (!conn.ok()) return conn.status();
    ScopedStatementCache statements(&**conn, conn->statements());
    bool retry = false;
    bool committing = false;
    const absl::Time deadline = CurrentCallDeadline();
    try {
      BoundStatements(**conn, conn->statement_limit_s(), deadline);
      // One round trip to begin (autocommit stays on outside transactions) instead
      // of two SET autocommit statements around every transaction.
      std::unique_ptr<sql::Statement> begin((*conn)->createStatement());
      // Applies to the next transaction only; the session keeps REPEATABLE READ.
      if (read_committed) begin->execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
      begin->execute("START TRANSACTION");
      absl::Status status = fn(**conn);
      if (status.ok() && absl::Now() > deadline) {
        // The caller has been told the call failed: it must not have happened.
        status = absl::DeadlineExceededError(
            absl::StrCat(context, ": the call's deadline passed; nothing was committed"));
      }
      if (status.ok()) {
        committing = true;
        // A statement, not Connection::commit(): that one drops the server's answer, and
        // on Galera the answer to COMMIT may be a certification failure (1213) or a
        // brute-force abort of a transaction another node's commit overtook while it sat
        // idle. Taken for a commit, the rolled-back work was lost yet acknowledged.
        begin->execute("COMMIT");
        if (after_commit_) after_commit_();
      } else {
        begin->execute("ROLLBACK");
      }
      return status;
    } catch (const sql::SQLException& e) {
      last = StatusFromSqlException(e, context);
      retry = IsRetryableTransactionError(e);
      if (absl::IsUnavailable(last)) {
        conn->Discard();
        NodeFailed(conn->node());
        // Lost before the commit went out, the transaction died with its connection and
        // can run again elsewhere; lost during the commit, it may have been applied.
        if (committing) {
          return absl::UnavailableError(
              absl::StrCat(context,
                           ": the database connection was lost while committing; whether the "
                           "change was applied is unknown (retry with the same request_id)"));
        }
        retry = true;
      } else {
        try {
          std::unique_ptr<sql::Statement> rollback((*conn)->createStatement());
          rollback->execute("ROLLBACK");
        } catch (const sql::SQLException&) {
          conn->Discard();
        }
      }
    }
    if (!retry) return last;
    metrics_->retries.Increment();
    // Deadlock: the other transaction wins; back off a little so it can finish.
    // Seeded on a thread's first retry only: random_device opens /dev/urandom.
    thread_local std::minstd_rand rng(std::random_device{}());
    std::uniform_int_distribution<int> jitter_us(0, 2000 * attempt);
    absl::SleepFor(absl::Microseconds(1000 * attempt + jitter_us(rng)));
  }
  return last;
}

absl::Status ConnectionPool::Ping() {
  return WithConnection("ping", [](sql::Connection& conn) {
    std::unique_ptr<sql::Statement> st(conn.createStatement());
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery("SELECT 1"));
    return absl::OkStatus();
  });
}

}  // namespace funnel::common
