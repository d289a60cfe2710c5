// gateway: Funnel's only door. Forwards marketing, sales and handoff calls to the
// owning service and serves the composite views.
#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>

#include "absl/flags/flag.h"
#include "common/channel.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/server/service_host.h"
#include "common/status.h"
#include "gateway/backend_health.h"
#include "gateway/proxy.h"
#include "gateway/routes.h"

ABSL_FLAG(int, port, 50051, "Port to listen on (0 picks a free one).");
ABSL_FLAG(std::string, listen_host, "0.0.0.0", "Interface to listen on.");
ABSL_FLAG(std::string, port_file, "", "If set, write the bound port to this file.");
ABSL_FLAG(std::string, marketing_address, "127.0.0.1:50052", "marketing_service address.");
ABSL_FLAG(std::string, sales_address, "127.0.0.1:50053", "sales_service address.");
ABSL_FLAG(absl::Duration, health_interval, absl::Milliseconds(500),
          "How often the backends' health is checked.");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(10),
          "How long shutdown waits for in-flight calls.");

int main(int argc, char** argv) {
  using funnel::gateway::Backend;
  funnel::common::BlockShutdownSignals();
  funnel::common::ParseFlags(argc, argv,
                             "gateway: Funnel's only door. Every flag can also be set as "
                             "FUNNEL_<FLAG>.");

  std::map<Backend, std::shared_ptr<grpc::Channel>> channels = {
      {Backend::kMarketing, funnel::common::InternalChannel(absl::GetFlag(FLAGS_marketing_address))},
      {Backend::kSales, funnel::common::InternalChannel(absl::GetFlag(FLAGS_sales_address))},
  };
  funnel::gateway::ForwardingProxy proxy(channels);

  funnel::common::ServiceHostOptions options;
  options.name = "gateway";
  options.host = absl::GetFlag(FLAGS_listen_host);
  options.port = absl::GetFlag(FLAGS_port);
  options.port_file = absl::GetFlag(FLAGS_port_file);
  options.probe_interval = absl::GetFlag(FLAGS_health_interval);
  options.drain_timeout = absl::GetFlag(FLAGS_drain_timeout);
  funnel::common::ServiceHost host(options);

  std::vector<std::string> forwarded;
  for (const auto& s : funnel::gateway::ForwardedServices()) forwarded.push_back(s.full_name);
  forwarded.push_back("funnel.gateway.v1.FunnelService");
  host.AddGenericService(&proxy, forwarded);
  // The gateway itself is up as long as it runs; each forwarded service is as
  // healthy as the backend that owns it.
  host.AddHealthProbe({"", "funnel.gateway.v1.FunnelService"}, [] { return absl::OkStatus(); });
  for (Backend backend : {Backend::kMarketing, Backend::kSales}) {
    host.AddHealthProbe(funnel::gateway::ServicesOf(backend),
                        funnel::gateway::BackendHealthProbe(channels.at(backend),
                                                            funnel::gateway::BackendName(backend)));
  }
  if (absl::Status status = host.Start(); !status.ok()) {
    funnel::common::LogError("cannot start", {{"server", "gateway"}, {"error", status.ToString()}});
    return 1;
  }
  return host.ServeUntilSignal();
}
