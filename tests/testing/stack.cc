#include "tests/testing/stack.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/client_interceptor.h>
#include <signal.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
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

FunnelStack::FunnelStack(const std::string& label, common::DbOptions server, int sales_replicas,
                         std::vector<std::string> gateway_flags)
    : FunnelStack(label, StackOptions{.server = std::move(server),
                                      .sales_replicas = sales_replicas,
                                      .gateway_flags = std::move(gateway_flags)}) {}

FunnelStack::FunnelStack(const std::string& label, StackOptions options)
    : marketing_db_(label + "_mk", options.cluster.empty() ? options.server : options.cluster[0]),
      sales_db_(label + "_sa", options.cluster.empty() ? options.server : options.cluster[0]) {
  marketing_user_ = marketing_db_.CreateOwnUser();
  sales_user_ = sales_db_.CreateOwnUser();
  SyncClusterNodes(options.cluster);  // the databases and users node 0 just made
  // Fixed ports, picked now: the services' relays need the gateway's address before
  // it starts, and a restarted process must come back where its peers look.
  std::vector<Process> processes = {kMarketing, kSales, kGateway};
  if (options.sales_replicas == 2) processes.push_back(kSales2);
  if (options.marketing_replicas == 2) processes.push_back(kMarketing2);
  for (Process p : processes) ports_[p] = FreePort();
  for (Process p : processes) metrics_ports_[p] = FreePort();
  keys_file_ = dir_.path() + "/keys.txt";
  const std::string secret = absl::StrCat("internal-", label, "-", FreePort());
  for (const char* role : {"MARKETING", "SALES_REP", "SALES_MANAGER", "REVENUE_OPS", "ADMIN",
                           "SERVICE_MARKETING", "SERVICE_SALES"}) {
    keys_[role] = MakeKey(keys_file_, role, absl::StrCat("test-", role), 0);
  }
  const std::string gateway = absl::StrCat("--gateway_address=127.0.0.1:", ports_[kGateway]);
  // The database flags of a service whose first node is `first`.
  auto database = [&](const common::DbOptions& db, size_t first) -> std::string {
    if (options.cluster.empty()) return absl::StrCat("--db_port=", db.port);
    std::string hosts = "--db_hosts=";
    for (size_t k = 0; k < options.cluster.size(); ++k) {
      const common::DbOptions& node = options.cluster[(first + k) % options.cluster.size()];
      absl::StrAppend(&hosts, k == 0 ? "" : ",", node.host, ":", node.port);
    }
    return hosts;
  };
  auto service = [&](Process p, const std::string& binary, const common::DbOptions& db,
                     size_t first_node) {
    const bool marketing = p == kMarketing || p == kMarketing2;
    specs_[p] =
        Spec{binary,
             {BinaryPath(binary), absl::StrCat("--port=", ports_[p]), "--listen_host=127.0.0.1",
              database(db, first_node), "--db_name=" + db.database, "--db_user=" + db.user,
              "--health_interval=100ms", "--drain_timeout=2s", gateway,
              absl::StrCat("--metrics_port=", metrics_ports_[p])},
             {{"FUNNEL_DB_PASSWORD", db.password},
              {"FUNNEL_RELAY_KEY", keys_.at(marketing ? "SERVICE_MARKETING" : "SERVICE_SALES")},
              {"FUNNEL_INTERNAL_SECRET", secret}}};
    for (const std::string& flag : options.service_flags) specs_[p].argv.push_back(flag);
  };
  service(kMarketing, "marketing_service", marketing_user_, 1);
  service(kSales, "sales_service", sales_user_, 2);
  std::string marketing_addresses = absl::StrCat("127.0.0.1:", ports_[kMarketing]);
  std::string sales_addresses = absl::StrCat("127.0.0.1:", ports_[kSales]);
  if (options.marketing_replicas == 2) {
    service(kMarketing2, "marketing_service", marketing_user_, 2);
    absl::StrAppend(&marketing_addresses, ",127.0.0.1:", ports_[kMarketing2]);
  }
  if (options.sales_replicas == 2) {
    service(kSales2, "sales_service", sales_user_, 1);
    absl::StrAppend(&sales_addresses, ",127.0.0.1:", ports_[kSales2]);
  }
  specs_[kGateway] =
      Spec{"gateway",
           {BinaryPath("gateway"), absl::StrCat("--port=", ports_[kGateway]),
            "--listen_host=127.0.0.1", "--marketing_address=" + marketing_addresses,
            "--sales_address=" + sales_addresses, "--health_interval=100ms", "--drain_timeout=2s",
            "--keys_file=" + keys_file_, absl::StrCat("--metrics_port=", metrics_ports_[kGateway])},
           {{"FUNNEL_INTERNAL_SECRET", secret}}};
  for (std::string& flag : options.gateway_flags) {
    specs_[kGateway].argv.push_back(std::move(flag));
  }
  for (Process p : processes) Start(p);
  for (Process p : processes) {
    WaitForHealth(ports_[p], "", HealthCheckResponse::SERVING, absl::Seconds(60));
  }
  // Ready when the gateway itself reaches both backends.
  for (const char* service :
       {"funnel.marketing.v1.MarketingService", "funnel.sales.v1.SalesService"}) {
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

namespace {

// Adds "authorization: Bearer <key>" to every call, as a client library would.
class KeyInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit KeyInterceptor(const std::string* key) : key_(key) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->insert({"authorization", "Bearer " + *key_});
    }
    methods->Proceed();
  }

 private:
  const std::string* key_;
};

class KeyInterceptorFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit KeyInterceptorFactory(std::string key) : key_(std::move(key)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new KeyInterceptor(&key_);
  }

 private:
  const std::string key_;
};

}  // namespace

std::string MakeKey(const std::string& keys_file, const std::string& role, const std::string& id,
                    int64_t rep_id) {
  CommandResult r =
      RunCommand(absl::StrCat(BinaryPath("gateway"), " keys add --role=", role, " --id=", id,
                              " --rep_id=", rep_id, " --keys_file=", keys_file, " 2>/dev/null"));
  std::string key(absl::StripAsciiWhitespace(r.output));
  if (r.exit_code != 0 || key.empty()) {
    std::fprintf(stderr, "gateway keys add failed: %s\n", r.output.c_str());
    std::abort();
  }
  return key;
}

std::string FunnelStack::AddKey(const std::string& role, const std::string& id, int64_t rep_id) {
  std::string key = MakeKey(keys_file_, role, id, rep_id);
  children_.at(kGateway)->Signal(SIGHUP);
  // Re-reading is quick; wait until the key works.
  for (int i = 0; i < 100; ++i) {
    const grpc::Status status =
        CallRaw(GatewayChannel(key), "/funnel.marketing.v1.MarketingService/GetRelayStats");
    if (status.error_code() != grpc::StatusCode::UNAUTHENTICATED) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return key;
}

std::shared_ptr<grpc::Channel> FunnelStack::GatewayChannel(const std::string& key,
                                                           bool own_connection) const {
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> factories;
  factories.push_back(
      std::make_unique<KeyInterceptorFactory>(key.empty() ? keys_.at("ADMIN") : key));
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      absl::StrCat("127.0.0.1:", ports_.at(kGateway)), grpc::InsecureChannelCredentials(),
      [own_connection] {
        grpc::ChannelArguments args;
        if (own_connection) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
        return args;
      }(),
      std::move(factories));
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
