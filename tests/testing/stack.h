#pragma once

// The three real Funnel binaries on free ports, each service on a fresh database
// of its own reached by a user that can see only that database.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

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

class FunnelStack final {
 public:
  // Starts marketing_service, sales_service and gateway against `server`.
  explicit FunnelStack(const std::string& label, common::DbOptions server = TestServerOptions());
  ~FunnelStack();  // SIGTERM to each process.

  int gateway_port() const { return gateway_port_; }
  int marketing_port() const { return marketing_port_; }
  int sales_port() const { return sales_port_; }
  std::shared_ptr<grpc::Channel> GatewayChannel() const;

  ChildProcess& gateway() { return *gateway_; }
  ChildProcess& marketing() { return *marketing_; }
  ChildProcess& sales() { return *sales_; }
  TestDatabase& marketing_db() { return marketing_db_; }
  TestDatabase& sales_db() { return sales_db_; }
  const common::DbOptions& marketing_user() const { return marketing_user_; }
  const common::DbOptions& sales_user() const { return sales_user_; }

  // Stops all three with SIGTERM; returns true when every one exited with 0.
  bool StopAll(absl::Duration timeout = absl::Seconds(20));

 private:
  std::unique_ptr<ChildProcess> StartService(const std::string& binary,
                                             const common::DbOptions& db, int* port);

  TempDir dir_;
  TestDatabase marketing_db_;
  TestDatabase sales_db_;
  common::DbOptions marketing_user_;
  common::DbOptions sales_user_;
  int gateway_port_ = 0;
  int marketing_port_ = 0;
  int sales_port_ = 0;
  std::unique_ptr<ChildProcess> marketing_;
  std::unique_ptr<ChildProcess> sales_;
  std::unique_ptr<ChildProcess> gateway_;
};

}  // namespace funnel::testing
