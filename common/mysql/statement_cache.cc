#include "common/mysql/statement_cache.h"

#include <cppconn/exception.h>

namespace funnel::common {
namespace {

// The connection the pool lent to this thread, and its statements.
struct Loan {
  sql::Connection* conn = nullptr;
  std::shared_ptr<StatementCache> cache;
};
thread_local Loan current_loan;

}  // namespace

void StatementReturn::operator()(sql::PreparedStatement* statement) const {
  std::unique_ptr<sql::PreparedStatement> owned(statement);
  if (cache == nullptr || owned == nullptr) return;
  try {
    // Drops bound values, among them pointers to the caller's blob streams.
    owned->clearParameters();
  } catch (const sql::SQLException&) {
    return;  // a statement that cannot be reset is not reused
  }
  cache->Give(sql, std::move(owned));
}

std::unique_ptr<sql::PreparedStatement> StatementCache::Take(const std::string& sql) {
  absl::MutexLock lock(&mu_);
  auto it = by_sql_.find(sql);
  if (it == by_sql_.end()) return nullptr;
  std::unique_ptr<sql::PreparedStatement> statement = std::move(it->second->second);
  lru_.erase(it->second);
  by_sql_.erase(it);
  return statement;
}

void StatementCache::Give(std::string sql, std::unique_ptr<sql::PreparedStatement> statement) {
  absl::MutexLock lock(&mu_);
  // One idle statement per text: a second one (the text was in use twice at once) goes.
  if (closed_ || capacity_ == 0 || by_sql_.contains(sql)) return;
  lru_.emplace_front(std::move(sql), std::move(statement));
  by_sql_.emplace(lru_.front().first, lru_.begin());
  if (lru_.size() > capacity_) {
    by_sql_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

void StatementCache::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  by_sql_.clear();
  lru_.clear();
}

size_t StatementCache::idle() const {
  absl::MutexLock lock(&mu_);
  return lru_.size();
}

ScopedStatementCache::ScopedStatementCache(sql::Connection* conn,
                                           std::shared_ptr<StatementCache> cache)
    : previous_conn_(current_loan.conn), previous_cache_(std::move(current_loan.cache)) {
  current_loan.conn = conn;
  current_loan.cache = std::move(cache);
}

ScopedStatementCache::~ScopedStatementCache() {
  current_loan.conn = previous_conn_;
  current_loan.cache = std::move(previous_cache_);
}

Statement Prepare(sql::Connection& conn, absl::string_view sql) {
  std::string text(sql);
  if (current_loan.conn != &conn || current_loan.cache == nullptr) {
    return Statement(conn.prepareStatement(text), StatementReturn{nullptr, {}});
  }
  std::unique_ptr<sql::PreparedStatement> statement = current_loan.cache->Take(text);
  if (statement == nullptr) statement.reset(conn.prepareStatement(text));
  return Statement(statement.release(), StatementReturn{current_loan.cache, std::move(text)});
}

}  // namespace funnel::common
