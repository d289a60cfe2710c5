// gateway: Funnel's only door. Forwards marketing, sales and handoff calls to the
// owning service and serves the composite views.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "absl/flags/flag.h"
#include "common/channel.h"
#include "common/flags.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/server/service_host.h"
#include "common/status.h"
#include "common/tls.h"
#include "gateway/auth.h"
#include "gateway/backend_health.h"
#include "gateway/backend_metrics.h"
#include "gateway/funnel_service.h"
#include "gateway/gatekeeper.h"
#include "gateway/h2_relay.h"
#include "gateway/h2_tls.h"
#include "gateway/proxy.h"
#include "gateway/routes.h"

ABSL_FLAG(int, port, 50051, "Port to listen on (0 picks a free one).");
ABSL_FLAG(std::string, listen_host, "127.0.0.1",
          "Interface to listen on: loopback unless told otherwise (0.0.0.0 for all; "
          "expose a service only with --tls_cert/--client_ca, see README).");
ABSL_FLAG(std::string, port_file, "", "If set, write the bound port to this file.");
ABSL_FLAG(std::string, marketing_address, "127.0.0.1:50052", "marketing_service address.");
ABSL_FLAG(std::string, sales_address, "127.0.0.1:50053", "sales_service address.");
ABSL_FLAG(absl::Duration, health_interval, absl::Milliseconds(500),
          "How often the backends' health is checked.");
ABSL_FLAG(absl::Duration, health_timeout, absl::Seconds(2),
          "A health probe that has not answered by then counts as failed (a hung database "
          "or backend).");
ABSL_FLAG(std::string, keys_file, "", "API keys file (SHA-256 hashes); re-read on SIGHUP.");
ABSL_FLAG(std::string, policy_file, "", "Authorization policy; default: the built-in policy.");
ABSL_FLAG(std::string, internal_secret, "",
          "Credential added to every forwarded call; the services require it "
          "(prefer FUNNEL_INTERNAL_SECRET).");
ABSL_FLAG(std::string, tls_cert, "",
          "Server certificate (PEM) for clients; empty serves plaintext.");
ABSL_FLAG(std::string, tls_key, "", "Private key of --tls_cert (PEM).");
ABSL_FLAG(std::string, backend_ca, "", "CA (PEM) of the services' certificates; set it for mTLS.");
ABSL_FLAG(std::string, backend_cert, "",
          "Client certificate (PEM) the gateway presents to services.");
ABSL_FLAG(std::string, backend_key, "", "Private key of --backend_cert (PEM).");
ABSL_FLAG(std::string, role, "", "keys add: the new key's role.");
ABSL_FLAG(std::string, id, "", "keys add: the new key's principal id.");
ABSL_FLAG(int64_t, rep_id, 0, "keys add: the sales rep id of a SALES_REP/SALES_MANAGER key.");
// Defaults from common::ConnectionLimits, so the numbers live in one place.
ABSL_FLAG(int, max_concurrent_streams, funnel::common::ConnectionLimits{}.max_concurrent_streams,
          "Most calls in flight on one client connection.");
ABSL_FLAG(absl::Duration, max_connection_idle,
          absl::Milliseconds(funnel::common::ConnectionLimits{}.max_connection_idle_ms),
          "A client connection with no call for this long is closed (GOAWAY).");
ABSL_FLAG(absl::Duration, max_connection_age,
          absl::Milliseconds(funnel::common::ConnectionLimits{}.max_connection_age_ms),
          "A client connection is asked to reconnect after this long (calls in flight get a "
          "minute to finish), so load spreads over gateway replicas.");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(10),
          "How long shutdown waits for in-flight calls.");
ABSL_FLAG(std::string, forwarding, "h2",
          "How forwarded calls travel: h2 (an HTTP/2 frame relay that admits a call from its "
          "headers and moves its frames) or grpc (the earlier path: a gRPC server call and a "
          "gRPC client call per call, kept as a fallback).");
ABSL_FLAG(int, forward_threads, 0, "--forwarding=h2: event loops (0: one per core).");

namespace {

// `gateway keys add --role R --id NAME [--rep_id N] --keys_file F`: prints the new
// key once; only its hash is stored.
int KeysCommand(const std::vector<std::string>& args) {
  if (args.size() != 3 || args[2] != "add") {
    std::fprintf(stderr,
                 "usage: gateway keys add --role ROLE --id NAME [--rep_id N] --keys_file FILE\n");
    return 2;
  }
  if (absl::GetFlag(FLAGS_keys_file).empty()) {
    std::fprintf(stderr, "gateway keys add: --keys_file is required\n");
    return 2;
  }
  absl::StatusOr<std::string> key =
      funnel::gateway::AddKey(absl::GetFlag(FLAGS_keys_file), absl::GetFlag(FLAGS_id),
                              absl::GetFlag(FLAGS_role), absl::GetFlag(FLAGS_rep_id));
  if (!key.ok()) {
    std::fprintf(stderr, "gateway keys add: %s\n", std::string(key.status().message()).c_str());
    return 1;
  }
  std::printf("%s\n", key->c_str());
  return 0;
}

absl::StatusOr<funnel::gateway::Policy> LoadPolicy() {
  const std::string path = absl::GetFlag(FLAGS_policy_file);
  if (path.empty()) return funnel::gateway::Policy::Parse(funnel::gateway::DefaultPolicyText());
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("policy file " + path + " cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  return funnel::gateway::Policy::Parse(text.str());
}

}  // namespace

int main(int argc, char** argv) {
  using funnel::gateway::Backend;
  funnel::common::BlockShutdownSignals();
  const std::vector<std::string> args = funnel::common::ParseFlags(
      argc, argv,
      "gateway: Funnel's only door. Every flag can also be set as FUNNEL_<FLAG>.\n"
      "  gateway keys add --role ROLE --id NAME [--rep_id N] --keys_file FILE");
  if (args.size() > 1 && args[1] == "keys") return KeysCommand(args);
  absl::StatusOr<std::unique_ptr<funnel::common::MetricsEndpoint>> metrics =
      funnel::common::StartOperatorEndpoints();
  if (!metrics.ok()) {
    funnel::common::LogError("cannot serve metrics", {{"error", metrics.status().ToString()}});
    return 1;
  }

  absl::StatusOr<funnel::gateway::Policy> policy = LoadPolicy();
  if (!policy.ok()) {
    funnel::common::LogError("cannot load the policy", {{"error", policy.status().ToString()}});
    return 1;
  }
  funnel::gateway::KeyStore keys(absl::GetFlag(FLAGS_keys_file));
  if (absl::Status s = keys.Reload(); !s.ok()) {
    // Without keys every call is UNAUTHENTICATED; say so loudly but serve health.
    funnel::common::LogWarning("no API keys loaded", {{"error", s.ToString()}});
  }

  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> backend_credentials =
      funnel::common::ChannelCredentialsFromFiles(absl::GetFlag(FLAGS_backend_ca),
                                                  absl::GetFlag(FLAGS_backend_cert),
                                                  absl::GetFlag(FLAGS_backend_key));
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> server_credentials =
      funnel::common::ServerCredentialsFromFiles(absl::GetFlag(FLAGS_tls_cert),
                                                 absl::GetFlag(FLAGS_tls_key), "");
  for (const absl::Status& s : {backend_credentials.status(), server_credentials.status()}) {
    if (!s.ok()) {
      funnel::common::LogError("bad TLS configuration", {{"error", s.ToString()}});
      return 1;
    }
  }
  std::map<Backend, std::shared_ptr<grpc::Channel>> channels = {
      {Backend::kMarketing, funnel::common::InternalChannel(
                                absl::GetFlag(FLAGS_marketing_address), *backend_credentials,
                                funnel::gateway::BackendMetricsInterceptors(Backend::kMarketing))},
      {Backend::kSales, funnel::common::InternalChannel(
                            absl::GetFlag(FLAGS_sales_address), *backend_credentials,
                            funnel::gateway::BackendMetricsInterceptors(Backend::kSales))},
  };
  const funnel::gateway::Gatekeeper gatekeeper(&keys, &*policy,
                                               absl::GetFlag(FLAGS_internal_secret));
  funnel::gateway::ForwardingProxy proxy(channels, &gatekeeper);
  funnel::gateway::FunnelServiceImpl funnel_views(&gatekeeper, channels.at(Backend::kMarketing),
                                                  channels.at(Backend::kSales));

  funnel::common::ServiceHostOptions options;
  options.name = "gateway";
  options.host = absl::GetFlag(FLAGS_listen_host);
  options.port = absl::GetFlag(FLAGS_port);
  options.port_file = absl::GetFlag(FLAGS_port_file);
  options.probe_interval = absl::GetFlag(FLAGS_health_interval);
  options.probe_timeout = absl::GetFlag(FLAGS_health_timeout);
  options.drain_timeout = absl::GetFlag(FLAGS_drain_timeout);
  options.credentials = *server_credentials;
  // The door: every call gets a request id, the log names the key's principal (never
  // what a caller wrote in a header), and connections have limits of their own.
  options.assign_request_ids = true;
  options.log_caller = [&gatekeeper](const grpc::ServerContextBase& ctx) {
    return gatekeeper.CallerOf(ctx);
  };
  options.connection_limits = funnel::common::ConnectionLimits{};
  options.connection_limits->max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  options.connection_limits->max_connection_idle_ms =
      absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_max_connection_idle));
  options.connection_limits->max_connection_age_ms =
      absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_max_connection_age));
  const std::string forwarding = absl::GetFlag(FLAGS_forwarding);
  const bool relay_h2 = forwarding == "h2";
  if (!relay_h2 && forwarding != "grpc") {
    funnel::common::LogError("bad --forwarding", {{"value", forwarding}});
    return 1;
  }
  funnel::gateway::H2RelayOptions relay_options;
  std::unique_ptr<funnel::gateway::ReplicaDirectory> replicas;
  absl::StatusOr<funnel::gateway::SslCtx> caller_tls = funnel::gateway::SslCtx(),
                                          backend_tls = funnel::gateway::SslCtx();
  if (relay_h2 && !absl::GetFlag(FLAGS_tls_cert).empty()) {
    caller_tls = funnel::gateway::CallerTlsContext(absl::GetFlag(FLAGS_tls_cert),
                                                   absl::GetFlag(FLAGS_tls_key));
  }
  if (relay_h2 && !absl::GetFlag(FLAGS_backend_ca).empty()) {
    backend_tls = funnel::gateway::BackendTlsContext(absl::GetFlag(FLAGS_backend_ca),
                                                     absl::GetFlag(FLAGS_backend_cert),
                                                     absl::GetFlag(FLAGS_backend_key));
  }
  if (relay_h2) {
    for (auto [ctx, into] : {std::make_pair(&caller_tls, &relay_options.caller_tls),
                             std::make_pair(&backend_tls, &relay_options.backend_tls)}) {
      if (!ctx->ok()) {
        funnel::common::LogError("bad TLS configuration", {{"error", ctx->status().ToString()}});
        return 1;
      }
      *into = ctx->value().get();
    }
    std::map<Backend, std::vector<funnel::gateway::ReplicaSpec>> specs;
    for (auto [backend, flag, name] :
         {std::make_tuple(Backend::kMarketing, absl::GetFlag(FLAGS_marketing_address),
                          "marketing_address"),
          std::make_tuple(Backend::kSales, absl::GetFlag(FLAGS_sales_address), "sales_address")}) {
      absl::StatusOr<std::vector<funnel::gateway::ReplicaSpec>> parsed =
          funnel::gateway::ParseReplicaSpecs(flag, name);
      if (!parsed.ok()) {
        funnel::common::LogError("bad backend address", {{"error", parsed.status().ToString()}});
        return 1;
      }
      specs[backend] = *std::move(parsed);
    }
    replicas = std::make_unique<funnel::gateway::ReplicaDirectory>(std::move(specs));
    relay_options.replicas = replicas.get();
    // Each replica's own health service, on a channel of its own (the relay's one
    // background thread is the only caller).
    relay_options.health_interval = absl::GetFlag(FLAGS_health_interval);
    relay_options.health_check =
        [probes = std::make_shared<std::map<std::string, std::function<absl::Status()>>>(),
         credentials = *backend_credentials](const funnel::gateway::Replica& replica) {
          auto it = probes->find(replica.address);
          if (it == probes->end()) {
            grpc::ChannelArguments args;
            args.SetSslTargetNameOverride(replica.name);  // connected by address
            it = probes
                     ->emplace(replica.address,
                               funnel::gateway::BackendHealthProbe(
                                   grpc::CreateCustomChannel(replica.address, credentials, args),
                                   replica.address))
                     .first;
          }
          return it->second();
        };
    // The relay faces callers; the gateway's own gRPC server moves to loopback
    // behind it.
    relay_options.host = options.host;
    relay_options.port = options.port;
    relay_options.limits = *options.connection_limits;
    relay_options.threads =
        absl::GetFlag(FLAGS_forward_threads) > 0
            ? absl::GetFlag(FLAGS_forward_threads)
            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    relay_options.gatekeeper = &gatekeeper;
    options.host = "127.0.0.1";
    options.port = 0;
    options.port_file.clear();
    options.credentials = grpc::InsecureServerCredentials();
  }
  funnel::common::ServiceHost host(options);

  std::vector<std::string> forwarded;
  for (const auto& s : funnel::gateway::ForwardedServices()) forwarded.push_back(s.full_name);
  host.AddGenericService(&proxy, forwarded);
  host.AddService(&funnel_views, {"funnel.gateway.v1.FunnelService"});
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
  std::unique_ptr<funnel::gateway::H2Relay> relay;
  if (relay_h2) {
    relay_options.local_address = absl::StrCat("127.0.0.1:", host.port());
    relay = std::make_unique<funnel::gateway::H2Relay>(relay_options);
    if (absl::Status status = relay->Start(); !status.ok()) {
      funnel::common::LogError("cannot start",
                               {{"server", "gateway"}, {"error", status.ToString()}});
      return 1;
    }
    // Forwarded calls drain first; the own server's drain follows.
    host.AddStopHook([&relay] { relay->Shutdown(absl::GetFlag(FLAGS_drain_timeout)); });
    if (const std::string port_file = absl::GetFlag(FLAGS_port_file); !port_file.empty()) {
      std::ofstream(port_file + ".tmp") << relay->port() << "\n";
      std::rename((port_file + ".tmp").c_str(), port_file.c_str());
    }
    funnel::common::LogInfo("relaying", {{"server", "gateway"},
                                         {"host", relay_options.host},
                                         {"port", relay->port()},
                                         {"threads", relay_options.threads}});
  }
  return host.ServeUntilSignal([&keys] {
    absl::Status s = keys.Reload();
    if (s.ok()) {
      funnel::common::LogInfo("keys reloaded");
    } else {
      funnel::common::LogWarning("keys reload failed; keeping the old keys",
                                 {{"error", s.ToString()}});
    }
  });
}
