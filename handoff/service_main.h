#pragma once

// The main() of a department's service (marketing_service, sales_service), each a
// party to the contract: flags, database pool, migrations, ServiceHost with a
// database health probe, the outbox relay, and an orderly stop on SIGTERM/SIGINT.
// Each service supplies only what differs.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/feed/feed_hub.h"
#include "common/mysql/migrations.h"
#include "common/mysql/pool.h"
#include "common/server/internal_guard.h"
#include "common/server/service_host.h"
#include "handoff/outbox_relay.h"

namespace funnel::handoff {

struct DbServiceSpec {
  std::string name;              // "marketing"
  int default_port;              // 50052
  std::string default_database;  // "funnel_marketing"; also the default DB user
  const std::vector<common::Migration>* migrations;
  // What its change feed's events are about (WatchEventsRequest.entity_type).
  std::vector<std::string> feed_entity_types;
  // Creates the service objects, registers them on `host` and returns an owner
  // that keeps them alive until the server has stopped, or why it cannot (a
  // configuration file that does not read: the binary exits). Stores call `wake`
  // after committing an outbox event so the relay sends it at once; WatchEvents
  // is served by `feed`.
  std::function<absl::StatusOr<std::shared_ptr<void>>(
      common::ServiceHost& host, common::ConnectionPool& pool, std::function<void()> wake,
      const common::InternalGuard* guard, feed::FeedHub* feed)>
      install;
  // Applied when the receiver acknowledged one of this service's events.
  DeliveredHook on_delivered;
};

int RunDbService(int argc, char** argv, const DbServiceSpec& spec);

}  // namespace funnel::handoff
