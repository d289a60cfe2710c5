#include "bench/galera_stats.h"

#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <algorithm>
#include <memory>

#include "absl/strings/numbers.h"

namespace funnel::bench {
namespace {

constexpr char kWsrepStatus[] = "SHOW GLOBAL STATUS LIKE 'wsrep%'";

double Value(const WsrepStatus& status, const std::string& name) {
  const auto it = status.find(name);
  return it == status.end() ? 0 : it->second;
}

}  // namespace

std::vector<WsrepStatus> ReadWsrepStatus(const std::vector<common::DbOptions>& nodes) {
  std::vector<WsrepStatus> result;
  for (const common::DbOptions& node : nodes) {
    WsrepStatus status;
    common::ConnectionPool pool(node);
    (void)pool.WithConnection("wsrep status", [&](sql::Connection& conn) {
      std::unique_ptr<sql::Statement> st(conn.createStatement());
      std::unique_ptr<sql::ResultSet> rs(st->executeQuery(kWsrepStatus));
      while (rs->next()) {
        double value = 0;
        if (absl::SimpleAtod(std::string(rs->getString(2)), &value)) {
          status[std::string(rs->getString(1))] = value;
        }
      }
      return absl::OkStatus();
    });
    result.push_back(std::move(status));
  }
  return result;
}

std::map<std::string, double> GaleraWindowFigures(const std::vector<WsrepStatus>& before,
                                                  const std::vector<WsrepStatus>& after,
                                                  double seconds) {
  std::map<std::string, double> f = {
      {"write_sets", 0},     {"write_set_bytes", 0},     {"cert_failures", 0},
      {"bf_aborts", 0},      {"flow_control_paused", 0}, {"flow_control_sent", 0},
      {"recv_queue_avg", 0}, {"cert_deps_distance", 0},
  };
  std::vector<size_t> answered;  // a node missing from a snapshot would count its whole history
  for (size_t n = 0; n < std::min(before.size(), after.size()); ++n) {
    if (!before[n].empty() && !after[n].empty()) answered.push_back(n);
  }
  double bytes = 0;
  for (size_t n : answered) {
    const auto delta = [&](const std::string& name) {
      return Value(after[n], name) - Value(before[n], name);
    };
    f["write_sets"] += delta("wsrep_replicated");
    bytes += delta("wsrep_replicated_bytes");
    f["cert_failures"] += delta("wsrep_local_cert_failures");
    f["bf_aborts"] += delta("wsrep_local_bf_aborts");
    f["flow_control_sent"] += delta("wsrep_flow_control_sent");
    if (seconds > 0) {
      f["flow_control_paused"] = std::max(f["flow_control_paused"],
                                          delta("wsrep_flow_control_paused_ns") / (seconds * 1e9));
    }
    f["recv_queue_avg"] =
        std::max(f["recv_queue_avg"], Value(after[n], "wsrep_local_recv_queue_avg"));
    f["cert_deps_distance"] +=
        Value(after[n], "wsrep_cert_deps_distance") / static_cast<double>(answered.size());
  }
  if (f["write_sets"] > 0) f["write_set_bytes"] = bytes / f["write_sets"];
  return f;
}

}  // namespace funnel::bench
