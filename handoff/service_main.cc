#include "handoff/service_main.h"

#include <grpcpp/grpcpp.h>

#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/channel.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/mysql/idempotency.h"
#include "common/server/caller.h"
#include "common/tls.h"
#include "handoff/schema.h"

ABSL_FLAG(int, port, -1, "Port to listen on (0 picks a free one); default per service.");
ABSL_FLAG(std::string, listen_host, "127.0.0.1",
          "Interface to listen on: loopback unless told otherwise (0.0.0.0 for all; "
          "expose a service only with --tls_cert/--client_ca, see README).");
ABSL_FLAG(std::string, port_file, "", "If set, write the bound port to this file.");
ABSL_FLAG(bool, migrate_only, false,
          "Apply the database migrations, then exit (0 when the schema is current): what a "
          "deployment runs once per rollout (a Kubernetes Job) before the replicas start.");
ABSL_FLAG(std::string, db_host, "127.0.0.1", "MariaDB host.");
ABSL_FLAG(int, db_port, 3306, "MariaDB port.");
ABSL_FLAG(std::string, db_hosts, "",
          "The nodes of a Galera cluster, host:port,host:port,... (instead of --db_host and "
          "--db_port): the first reachable and ready one is used, the next when it fails.");
ABSL_FLAG(std::string, db_name, "", "Database name; default per service.");
ABSL_FLAG(std::string, db_user, "", "Database user; default: the database name.");
ABSL_FLAG(std::string, db_password, "", "Database password (prefer FUNNEL_DB_PASSWORD).");
ABSL_FLAG(int, db_pool_size, 16, "Most database connections open at once.");
ABSL_FLAG(absl::Duration, db_wait, absl::Seconds(60),
          "How long to wait at start-up for the database before giving up.");
ABSL_FLAG(absl::Duration, health_interval, absl::Milliseconds(500),
          "How often the database health probe runs.");
ABSL_FLAG(absl::Duration, health_timeout, absl::Seconds(2),
          "A health probe that has not answered by then counts as failed (a hung database "
          "or backend).");
ABSL_FLAG(std::string, gateway_address, "127.0.0.1:50051",
          "Where the outbox relay sends handoff-contract events (the gateway).");
ABSL_FLAG(std::string, relay_key, "",
          "API key the relay presents to the gateway (prefer FUNNEL_RELAY_KEY).");
ABSL_FLAG(absl::Duration, relay_poll_interval, absl::Seconds(1),
          "How often the relay looks at the outbox when nothing woke it.");
ABSL_FLAG(std::string, internal_secret, "",
          "Credential the gateway adds to every call; calls without it are refused "
          "(prefer FUNNEL_INTERNAL_SECRET). Required unless --allow_direct_calls.");
ABSL_FLAG(bool, allow_direct_calls, false,
          "Accept calls that did not come through the gateway (never in production).");
ABSL_FLAG(std::string, tls_cert, "", "Server certificate (PEM); empty serves plaintext.");
ABSL_FLAG(std::string, tls_key, "", "Private key of --tls_cert (PEM).");
ABSL_FLAG(std::string, client_ca, "",
          "CA (PEM) that signed the gateway's client certificate; set it for mTLS.");
ABSL_FLAG(std::string, gateway_ca, "", "CA (PEM) the relay trusts for the gateway's TLS.");
ABSL_FLAG(int, max_threads, 256,
          "Most threads blocking handlers may use at once; a call beyond them is answered "
          "RESOURCE_EXHAUSTED.");
ABSL_FLAG(absl::Duration, request_id_retention, absl::Hours(7 * 24),
          "How long a mutation's request_id replays its first answer; older keys are purged "
          "hourly and a retry after that runs again.");
ABSL_FLAG(absl::Duration, feed_retention, absl::Hours(7 * 24),
          "How long the change feed keeps events: a WatchEvents resume token older than "
          "that is refused (RESUME_TOKEN_EXPIRED).");
ABSL_FLAG(absl::Duration, feed_stall_timeout, absl::Seconds(30),
          "A change-feed watcher that takes no event for this long is ended with its resume "
          "token (RESOURCE_EXHAUSTED, WATCHER_TOO_SLOW).");
ABSL_FLAG(absl::Duration, feed_poll_interval, absl::Milliseconds(200),
          "How often the change feed looks for events other replicas committed.");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(10),
          "How long shutdown waits for in-flight calls.");

namespace funnel::handoff {

using common::CallerId;
using common::ChannelCredentialsFromFiles;
using common::ConnectionPool;
using common::DbOptions;
using common::InternalChannel;
using common::InternalGuard;
using common::LogError;
using common::LogInfo;
using common::LogWarning;
using common::ParseFlags;
using common::ServerCredentialsFromFiles;
using common::ServiceHost;
using common::ServiceHostOptions;

int RunDbService(int argc, char** argv, const DbServiceSpec& spec) {
  common::BlockShutdownSignals();
  ParseFlags(argc, argv,
             absl::StrCat(spec.name, "_service: Funnel's ", spec.name,
                          " service. Every flag can also be set as FUNNEL_<FLAG>.")
                 .c_str());
  absl::StatusOr<std::unique_ptr<common::MetricsEndpoint>> metrics =
      common::StartOperatorEndpoints();
  if (!metrics.ok()) {
    LogError("cannot serve metrics", {{"error", metrics.status().ToString()}});
    return 1;
  }
  ConnectionPool::InitDriver();

  DbOptions db;
  db.host = absl::GetFlag(FLAGS_db_host);
  db.port = absl::GetFlag(FLAGS_db_port);
  if (!absl::GetFlag(FLAGS_db_hosts).empty()) {
    if (absl::Status s = common::SetNodes(absl::GetFlag(FLAGS_db_hosts), db); !s.ok()) {
      LogError("bad --db_hosts", {{"server", spec.name}, {"error", s.ToString()}});
      return 1;
    }
  }
  db.database =
      absl::GetFlag(FLAGS_db_name).empty() ? spec.default_database : absl::GetFlag(FLAGS_db_name);
  db.user = absl::GetFlag(FLAGS_db_user).empty() ? db.database : absl::GetFlag(FLAGS_db_user);
  db.password = absl::GetFlag(FLAGS_db_password);
  db.pool_size = absl::GetFlag(FLAGS_db_pool_size);
  ConnectionPool pool(db);

  // The database may still be starting (or restarting): retry connection errors
  // for a while, but fail at once on anything else (a newer schema, a bad script).
  const absl::Time give_up = absl::Now() + absl::GetFlag(FLAGS_db_wait);
  while (true) {
    absl::Status status = ApplySchema(pool, *spec.migrations);
    if (status.ok()) break;
    if (!absl::IsUnavailable(status) || absl::Now() > give_up) {
      LogError("cannot prepare the database",
               {{"server", spec.name}, {"database", db.database}, {"error", status.ToString()}});
      return 1;
    }
    LogWarning("waiting for the database", {{"server", spec.name}, {"error", status.ToString()}});
    absl::SleepFor(absl::Seconds(1));
  }
  if (absl::GetFlag(FLAGS_migrate_only)) {
    LogInfo("schema is current", {{"server", spec.name}, {"database", db.database}});
    return 0;
  }

  ServiceHostOptions options;
  options.name = spec.name;
  options.host = absl::GetFlag(FLAGS_listen_host);
  options.port = absl::GetFlag(FLAGS_port) >= 0 ? absl::GetFlag(FLAGS_port) : spec.default_port;
  options.port_file = absl::GetFlag(FLAGS_port_file);
  options.probe_interval = absl::GetFlag(FLAGS_health_interval);
  options.probe_timeout = absl::GetFlag(FLAGS_health_timeout);
  options.drain_timeout = absl::GetFlag(FLAGS_drain_timeout);
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> relay_credentials =
      ChannelCredentialsFromFiles(absl::GetFlag(FLAGS_gateway_ca), "", "");
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> server_credentials =
      ServerCredentialsFromFiles(absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
                                 absl::GetFlag(FLAGS_client_ca));
  for (const absl::Status& s : {relay_credentials.status(), server_credentials.status()}) {
    if (!s.ok()) {
      LogError("bad TLS configuration", {{"server", spec.name}, {"error", s.ToString()}});
      return 1;
    }
  }
  options.credentials = *server_credentials;
  const std::string secret = absl::GetFlag(FLAGS_internal_secret);
  if (secret.empty() && !absl::GetFlag(FLAGS_allow_direct_calls)) {
    LogError("refusing to start without an internal credential",
             {{"server", spec.name},
              {"fix", "set FUNNEL_INTERNAL_SECRET (the gateway's too), or --allow_direct_calls"}});
    return 1;
  }
  const InternalGuard guard(secret);
  // The principal headers name the caller only on calls that carry the gateway's
  // credential; anyone can write them on a direct call.
  options.log_caller = [&guard](const grpc::ServerContextBase& ctx) {
    return guard.Check(ctx).ok() ? CallerId(ctx) : std::string("unauthenticated");
  };
  options.max_threads = absl::GetFlag(FLAGS_max_threads);
  ServiceHost host(options);
  RelayOptions relay_options;
  relay_options.name = spec.name;
  relay_options.gateway = InternalChannel(absl::GetFlag(FLAGS_gateway_address), *relay_credentials);
  relay_options.bearer_key = absl::GetFlag(FLAGS_relay_key);
  relay_options.poll_interval = absl::GetFlag(FLAGS_relay_poll_interval);
  OutboxRelay relay(&pool, relay_options, spec.on_delivered);
  feed::FeedOptions feed_options;
  feed_options.name = spec.name;
  feed_options.entity_types = spec.feed_entity_types;
  feed_options.retention = absl::GetFlag(FLAGS_feed_retention);
  feed_options.stall_timeout = absl::GetFlag(FLAGS_feed_stall_timeout);
  feed_options.poll_interval = absl::GetFlag(FLAGS_feed_poll_interval);
  feed::FeedHub feed(&pool, feed_options);
  pool.SetAfterCommit([&feed] {
    if (feed::TakeFeedWritten()) feed.Wake();
  });
  // Watches never end by themselves: end them (with their resume tokens) before the drain.
  host.AddStopHook([&feed] { feed.Stop(); });
  absl::StatusOr<std::shared_ptr<void>> services = spec.install(
      host, pool, [&relay] { relay.Wake(); }, &guard, &feed);
  if (!services.ok()) {
    LogError("cannot start", {{"server", spec.name}, {"error", services.status().ToString()}});
    return 1;
  }
  // The server is useful only while its database answers.
  host.AddHealthProbe({}, [&pool] { return pool.Ping(); });
  if (absl::Status status = host.Start(); !status.ok()) {
    LogError("cannot start", {{"server", spec.name}, {"error", status.ToString()}});
    return 1;
  }
  relay.Start();
  feed.Start();
  // Request ids older than the retention window are purged, hourly.
  absl::Notification stopping;
  std::thread purger([&] {
    const absl::Duration retention = absl::GetFlag(FLAGS_request_id_retention);
    do {
      absl::StatusOr<int64_t> purged;
      do {
        purged = common::PurgeRequestIds(pool, absl::Now() - retention);
      } while (purged.ok() && *purged > 0 && !stopping.HasBeenNotified());
      if (!purged.ok()) {
        LogWarning("request id purge failed",
                   {{"server", spec.name}, {"error", purged.status().ToString()}});
      }
    } while (!stopping.WaitForNotificationWithTimeout(absl::Hours(1)));
  });
  const int code = host.ServeUntilSignal();
  stopping.Notify();
  purger.join();
  relay.Stop();
  feed.Stop();
  return code;
}

}  // namespace funnel::handoff
