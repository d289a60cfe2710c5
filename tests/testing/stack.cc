#include "tests/testing/stack.h"

#include <signal.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace funnel::testing {

HealthCheckResponse::ServingStatus HealthOf(int port, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  if (!stub->Check(&ctx, request, &response).ok()) return HealthCheckResponse::UNKNOWN;
  return response.status();
}

bool WaitForHealth(int port, const std::string& service, HealthCheckResponse::ServingStatus want,
                   absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (HealthOf(port, service) == want) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return false;
}

FunnelStack::FunnelStack(const std::string& label, common::DbOptions server)
    : marketing_db_(label + "_mk", server), sales_db_(label + "_sa", server) {
  marketing_user_ = marketing_db_.CreateOwnUser();
  sales_user_ = sales_db_.CreateOwnUser();
  // The services' relays need the gateway's address before it starts.
  gateway_port_ = FreePort();
  marketing_ = StartService("marketing_service", marketing_user_, &marketing_port_);
  sales_ = StartService("sales_service", sales_user_, &sales_port_);
  const std::string port_file = dir_.path() + "/gateway.port";
  gateway_ = std::make_unique<ChildProcess>(
      "gateway", std::vector<std::string>{
                     BinaryPath("gateway"), absl::StrCat("--port=", gateway_port_),
                     "--listen_host=127.0.0.1",
                     "--port_file=" + port_file,
                     absl::StrCat("--marketing_address=127.0.0.1:", marketing_port_),
                     absl::StrCat("--sales_address=127.0.0.1:", sales_port_),
                     "--health_interval=100ms"});
  gateway_port_ = WaitForPortFile(port_file, absl::Seconds(30)).value_or(0);
}

std::unique_ptr<ChildProcess> FunnelStack::StartService(const std::string& binary,
                                                        const common::DbOptions& db, int* port) {
  const std::string port_file = absl::StrCat(dir_.path(), "/", binary, ".port");
  auto child = std::make_unique<ChildProcess>(
      binary,
      std::vector<std::string>{BinaryPath(binary), "--port=0", "--listen_host=127.0.0.1",
                               "--port_file=" + port_file, absl::StrCat("--db_port=", db.port),
                               "--db_name=" + db.database, "--db_user=" + db.user,
                               "--health_interval=100ms",
                               absl::StrCat("--gateway_address=127.0.0.1:", gateway_port_)},
      std::map<std::string, std::string>{{"FUNNEL_DB_PASSWORD", db.password}});
  *port = WaitForPortFile(port_file, absl::Seconds(60)).value_or(0);
  return child;
}

std::shared_ptr<grpc::Channel> FunnelStack::GatewayChannel() const {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", gateway_port_),
                             grpc::InsecureChannelCredentials());
}

bool FunnelStack::StopAll(absl::Duration timeout) {
  bool clean = true;
  for (ChildProcess* p : {gateway_.get(), marketing_.get(), sales_.get()}) {
    p->Signal(SIGTERM);
  }
  for (ChildProcess* p : {gateway_.get(), marketing_.get(), sales_.get()}) {
    clean = p->Wait(timeout) == 0 && clean;
  }
  return clean;
}

FunnelStack::~FunnelStack() { StopAll(); }

}  // namespace funnel::testing
