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
  // Fixed ports, picked now: the services' relays need the gateway's address before
  // it starts, and a restarted process must come back where its peers look.
  for (Process p : {kMarketing, kSales, kGateway}) ports_[p] = FreePort();
  const std::string gateway = absl::StrCat("--gateway_address=127.0.0.1:", ports_[kGateway]);
  auto service = [&](Process p, const std::string& binary, const common::DbOptions& db) {
    specs_[p] = Spec{binary,
                     {BinaryPath(binary), absl::StrCat("--port=", ports_[p]),
                      "--listen_host=127.0.0.1", absl::StrCat("--db_port=", db.port),
                      "--db_name=" + db.database, "--db_user=" + db.user, "--health_interval=100ms",
                      "--drain_timeout=2s", gateway},
                     {{"FUNNEL_DB_PASSWORD", db.password}}};
  };
  service(kMarketing, "marketing_service", marketing_user_);
  service(kSales, "sales_service", sales_user_);
  specs_[kGateway] = Spec{"gateway",
                          {BinaryPath("gateway"), absl::StrCat("--port=", ports_[kGateway]),
                           "--listen_host=127.0.0.1",
                           absl::StrCat("--marketing_address=127.0.0.1:", ports_[kMarketing]),
                           absl::StrCat("--sales_address=127.0.0.1:", ports_[kSales]),
                           "--health_interval=100ms", "--drain_timeout=2s"},
                          {}};
  for (Process p : {kMarketing, kSales, kGateway}) Start(p);
  for (Process p : {kMarketing, kSales, kGateway}) {
    WaitForHealth(ports_[p], "", HealthCheckResponse::SERVING, absl::Seconds(60));
  }
  // Ready when the gateway itself reaches both backends.
  for (const char* service : {"funnel.marketing.v1.MarketingService", "funnel.sales.v1.SalesService"}) {
    WaitForHealth(ports_[kGateway], service, HealthCheckResponse::SERVING, absl::Seconds(60));
  }
}

void FunnelStack::Start(Process p) {
  const Spec& spec = specs_.at(p);
  children_[p] = std::make_unique<ChildProcess>(spec.name, spec.argv, spec.env);
}

void FunnelStack::Kill(Process p) {
  children_.at(p)->Signal(SIGKILL);
  children_.at(p)->Wait(absl::Seconds(10));
}

std::shared_ptr<grpc::Channel> FunnelStack::GatewayChannel() const {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", ports_.at(kGateway)),
                             grpc::InsecureChannelCredentials());
}

bool FunnelStack::StopAll(absl::Duration timeout) {
  bool clean = true;
  for (auto& [p, child] : children_) {
    if (child->Running()) child->Signal(SIGTERM);
  }
  for (auto& [p, child] : children_) clean = child->Wait(timeout) == 0 && clean;
  return clean;
}

FunnelStack::~FunnelStack() { StopAll(); }

}  // namespace funnel::testing
