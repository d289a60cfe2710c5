#pragma once

// The three real Funnel binaries on free ports, each service on a fresh database
// of its own reached by a user that can see only that database. Any of them can be
// killed and started again on the same port (fault tests).

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/testing/harness.h"

namespace funnel::testing {

using grpc::health::v1::HealthCheckResponse;

// Health of `service` ("" for the whole server) on 127.0.0.1:port; UNKNOWN when the
// server does not answer.
HealthCheckResponse::ServingStatus HealthOf(int port, const std::string& service);

// Waits until HealthOf(port, service) == want; false on timeout.
bool WaitForHealth(int port, const std::string& service, HealthCheckResponse::ServingStatus want,
                   absl::Duration timeout = absl::Seconds(30));

// Runs `gateway keys add` and returns the new key.
std::string MakeKey(const std::string& keys_file, const std::string& role, const std::string& id,
                    int64_t rep_id);

struct StackOptions {
  // Where both databases are made (an admin user's options).
  common::DbOptions server = TestServerOptions();
  // 1 or 2 of each service; a second replica shares its first's database.
  int marketing_replicas = 1;
  int sales_replicas = 1;
  // Added to the gateway's command line (a --policy_file, say).
  std::vector<std::string> gateway_flags;
  // Added to every service's command line (a --feed_retention, say).
  std::vector<std::string> service_flags;
  // The nodes of a Galera cluster (TestClusterNodes()): the databases are made on
  // node 0, and every service gets all nodes as --db_hosts, starting at its own:
  // marketing's replicas at nodes 1 and 2, sales' at nodes 2 and 1 (node 0 stays
  // the tests' own, for the reads they check with).
  std::vector<common::DbOptions> cluster;
};

class FunnelStack final {
 public:
  enum Process { kMarketing, kSales, kGateway, kSales2, kMarketing2 };

  explicit FunnelStack(const std::string& label, StackOptions options);
  // Starts marketing_service, sales_service (with `sales_replicas` of 1 or 2, the
  // second as kSales2 on the same database) and gateway against `server`.
  // `gateway_flags` are added to the gateway's command line (a --policy_file, say).
  explicit FunnelStack(const std::string& label, common::DbOptions server = TestServerOptions(),
                       int sales_replicas = 1, std::vector<std::string> gateway_flags = {});
  ~FunnelStack();  // SIGTERM to each process.

  int gateway_port() const { return ports_.at(kGateway); }
  int marketing_port() const { return ports_.at(kMarketing); }
  int sales_port() const { return ports_.at(kSales); }
  int port(Process p) const { return ports_.at(p); }
  // Where each process serves /metrics (--metrics_port).
  int metrics_port(Process p) const { return metrics_ports_.at(p); }
  // A channel to the gateway whose calls carry `key` (default: the ADMIN key). With
  // `own_connection`, it shares no TCP connection with any other channel.
  std::shared_ptr<grpc::Channel> GatewayChannel(const std::string& key = "",
                                                bool own_connection = false) const;

  // The key made at start-up for each role (principal id "test-<ROLE>").
  const std::string& Key(const std::string& role) const { return keys_.at(role); }
  // Adds a key (for a rep id, say), and has the gateway re-read its keys (SIGHUP).
  std::string AddKey(const std::string& role, const std::string& id, int64_t rep_id);

  ChildProcess& gateway() { return *children_.at(kGateway); }
  ChildProcess& marketing() { return *children_.at(kMarketing); }
  ChildProcess& sales() { return *children_.at(kSales); }
  ChildProcess& process(Process p) { return *children_.at(p); }
  TestDatabase& marketing_db() { return marketing_db_; }
  TestDatabase& sales_db() { return sales_db_; }
  const common::DbOptions& marketing_user() const { return marketing_user_; }
  const common::DbOptions& sales_user() const { return sales_user_; }

  // SIGKILL, and wait for the process to be gone.
  void Kill(Process p);
  // Starts it again with the same flags and port (after Kill).
  void Start(Process p);

  // Stops all three with SIGTERM; returns true when every one exited with 0.
  bool StopAll(absl::Duration timeout = absl::Seconds(20));

 private:
  struct Spec {
    std::string name;
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;
  };

  TempDir dir_;
  TestDatabase marketing_db_;
  TestDatabase sales_db_;
  common::DbOptions marketing_user_;
  common::DbOptions sales_user_;
  std::string keys_file_;
  std::map<std::string, std::string> keys_;
  std::map<Process, int> ports_;
  std::map<Process, int> metrics_ports_;
  std::map<Process, Spec> specs_;
  std::map<Process, std::unique_ptr<ChildProcess>> children_;
};

}  // namespace funnel::testing
