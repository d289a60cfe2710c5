#pragma once

// Read-only views made of several independent queries run them side by side, each
// on its own pooled connection, so a view costs about its slowest query rather
// than their sum. (Each query reads its own snapshot, as autocommit reads always
// did: such a view's figures were never one transaction's.)

#include <cppconn/connection.h>

#include <functional>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/mysql/pool.h"

namespace funnel::common {

using ConnectionReader = std::function<void(sql::Connection&)>;

// Runs every reader (the first on the calling thread) and returns the first error
// in reader order, or OK. Readers must write to disjoint places.
inline absl::Status ReadInParallel(ConnectionPool& pool, absl::string_view context,
                                   const std::vector<ConnectionReader>& readers) {
  std::vector<absl::Status> results(readers.size());
  auto read = [&](size_t i) {
    results[i] = pool.WithConnection(context, [&](sql::Connection& conn) {
      readers[i](conn);
      return absl::OkStatus();
    });
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < readers.size(); ++i) threads.emplace_back(read, i);
  if (!readers.empty()) read(0);
  for (auto& t : threads) t.join();
  for (const absl::Status& s : results) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace funnel::common
