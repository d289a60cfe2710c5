#include "handoff/outbox_relay.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <map>
#include <random>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/generic_call.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/mysql/sql_util.h"
#include "common/request_id.h"
#include "common/status.h"

namespace funnel::handoff {

using common::ConcurrentRawCalls;
using common::FromGrpcStatus;
using common::LogInfo;
using common::LogWarning;
using common::Placeholders;
using common::Prepare;
using common::RawCall;

namespace {

constexpr absl::string_view kClaim = R"sql(
  SELECT seq, event_id, lead_id, kind, payload, attempts, request_id,
    TIMESTAMPDIFF(MICROSECOND, created_at, NOW(6)) FROM outbox
  WHERE delivered_at IS NULL AND next_attempt_at <= NOW(6)
  ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED)sql";
constexpr absl::string_view kOldestPendingOfLeads =
    "SELECT lead_id, MIN(seq) FROM outbox WHERE delivered_at IS NULL AND lead_id IN ";
constexpr absl::string_view kDelivered =
    "UPDATE outbox SET delivered_at = NOW(6), attempts = attempts + 1, last_error = '' WHERE seq "
    "IN ";
constexpr absl::string_view kFailed = R"sql(
  UPDATE outbox SET attempts = attempts + 1, last_error = ?,
    next_attempt_at = NOW(6) + INTERVAL ? MICROSECOND
  WHERE seq = ?)sql";

}  // namespace

// Seq order is commit-near order, so the first pending row by seq is the oldest.
constexpr absl::string_view kBacklog = R"sql(
  SELECT COUNT(*), COALESCE(TIMESTAMPDIFF(MICROSECOND,
    (SELECT created_at FROM outbox WHERE delivered_at IS NULL ORDER BY seq LIMIT 1), NOW(6)), 0)
  FROM outbox WHERE delivered_at IS NULL)sql";

struct RelayMetrics {
  prometheus::Family<prometheus::Counter>& deliveries = common::CounterFamily(
      "funnel_relay_deliveries_total", "Outbox events the receiver acknowledged, by kind.");
  prometheus::Family<prometheus::Counter>& failures =
      common::CounterFamily("funnel_relay_delivery_failures_total",
                            "Delivery attempts that failed (retried later with backoff), by kind.");
  prometheus::Family<prometheus::Histogram>& latency =
      common::HistogramFamily("funnel_relay_delivery_latency_seconds",
                              "Time from an event's commit to its acknowledgement, by kind.");
  prometheus::Family<prometheus::Gauge>& backlog =
      common::GaugeFamily("funnel_outbox_backlog_events", "Outbox events not yet delivered.");
  prometheus::Family<prometheus::Gauge>& oldest =
      common::GaugeFamily("funnel_outbox_oldest_undelivered_age_seconds",
                          "Age of the oldest outbox event not yet delivered (0 when none).");
};

RelayMetrics& Metrics() {
  static auto* const metrics = new RelayMetrics;
  return *metrics;
}

absl::Duration RetryBackoff(int attempts, absl::Duration initial, absl::Duration cap,
                            double jitter) {
  absl::Duration d = initial;
  for (int i = 1; i < attempts && d < cap; ++i) d *= 2;
  d = std::min(d, cap);
  return d * (0.8 + 0.4 * jitter);
}

OutboxRelay::OutboxRelay(common::ConnectionPool* pool, RelayOptions options,
                         DeliveredHook on_delivered)
    : pool_(pool),
      options_(std::move(options)),
      on_delivered_(std::move(on_delivered)),
      stub_(options_.gateway) {}

OutboxRelay::~OutboxRelay() { Stop(); }

void OutboxRelay::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void OutboxRelay::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void OutboxRelay::Wake() {
  absl::MutexLock lock(&mu_);
  wake_ = true;
}

void OutboxRelay::Loop() {
  // The relay wakes on every commit that writes an event: the backlog's query runs
  // at most once per poll interval, not once per wake.
  absl::Time backlog_exported = absl::InfinitePast();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return wake_ || stop_; };
      mu_.AwaitWithTimeout(absl::Condition(&ready), options_.poll_interval);
      if (stop_) return;
      wake_ = false;
    }
    // Keep going while passes deliver something: a backlog drains without waiting.
    while (true) {
      absl::StatusOr<int> delivered = RunOnce();
      if (!delivered.ok()) {
        LogWarning("relay pass failed",
                   {{"server", options_.name}, {"error", delivered.status().ToString()}});
        break;
      }
      if (*delivered == 0) break;
      absl::MutexLock lock(&mu_);
      if (stop_) return;
    }
    if (absl::Now() - backlog_exported >= options_.poll_interval) {
      ExportBacklog();
      backlog_exported = absl::Now();
    }
  }
}

void OutboxRelay::ExportBacklog() {
  int64_t count = 0;
  int64_t oldest_us = 0;
  const absl::Status status = pool_->WithConnection("outbox backlog", [&](sql::Connection& conn) {
    std::unique_ptr<sql::Statement> st(conn.createStatement());
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery(std::string(kBacklog)));
    if (rs->next()) {
      count = rs->getInt64(1);
      oldest_us = rs->getInt64(2);
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return;  // the database is away: the figures stay as last seen
  Metrics().backlog.Add({{"server", options_.name}}).Set(static_cast<double>(count));
  Metrics().oldest.Add({{"server", options_.name}}).Set(static_cast<double>(oldest_us) / 1e6);
}

absl::StatusOr<int> OutboxRelay::RunOnce() {
  int delivered = 0;
  // What the pass did, counted once it committed (a retried pass starts over).
  struct Sent {
    std::string kind;
    bool ok;
    absl::Duration age;  // since the event committed
  };
  std::vector<Sent> sent;
  absl::Status status = pool_->InTransaction(
      "relay",
      [&](sql::Connection& conn) -> absl::Status {
        delivered = 0;
        sent.clear();
        struct Claimed {
          RelayedEvent event;
          int attempts;
          absl::Time created;
          bool blocked = false;
        };
        std::vector<Claimed> claimed;
        std::vector<RawCall> calls;  // calls[i] carries claimed[i]
        {
          auto claim = Prepare(conn, kClaim);
          claim->setInt(1, options_.batch_size);
          std::unique_ptr<sql::ResultSet> rs(claim->executeQuery());
          std::map<int64_t, int64_t> first_seq;  // lead -> its oldest claimed event
          while (rs->next()) {
            RelayedEvent event;
            event.seq = rs->getInt64(1);
            event.event_id = rs->getString(2);
            event.lead_id = rs->getInt64(3);
            event.kind_name = rs->getString(4);
            event.kind = KindFromName(event.kind_name);
            // One event per lead per pass keeps each lead's events in order while
            // different leads' events go out together; the rest wait for the next pass.
            if (!first_seq.emplace(event.lead_id, event.seq).second) continue;
            RawCall call;
            if (event.kind) call.method = MethodFor(*event.kind);
            call.request = rs->getString(5);
            // The request id of the call that caused the event; an older event has
            // none, and its own id serves (a UUID, which is a well-formed request id).
            event.request_id = rs->getString(7);
            if (event.request_id.empty()) event.request_id = event.event_id;
            call.metadata.emplace_back(common::kRequestIdHeader, event.request_id);
            calls.push_back(std::move(call));
            claimed.push_back({std::move(event), rs->getInt(6),
                               absl::Now() - absl::Microseconds(rs->getInt64(8))});
          }
          // An older event of the lead still pending (backing off, or claimed by a
          // replica) goes first.
          const std::set<int64_t> blocked = LeadsWithEarlierPending(conn, first_seq);
          for (Claimed& c : claimed) c.blocked = blocked.count(c.event.lead_id) > 0;
        }
        std::vector<RawCall> to_send;
        std::vector<size_t> sent_index(calls.size(), SIZE_MAX);
        for (size_t i = 0; i < calls.size(); ++i) {
          if (claimed[i].blocked) continue;
          if (calls[i].method.empty()) {
            calls[i].status =
                grpc::Status(grpc::StatusCode::INTERNAL,
                             absl::StrCat("unknown event kind ", claimed[i].event.kind_name));
            continue;
          }
          sent_index[i] = to_send.size();
          to_send.push_back(calls[i]);
        }
        ConcurrentRawCalls(stub_, to_send, [this](grpc::ClientContext* ctx) {
          ctx->set_deadline(std::chrono::system_clock::now() +
                            absl::ToChronoMilliseconds(options_.call_deadline));
          if (!options_.bearer_key.empty())
            ctx->AddMetadata("authorization", "Bearer " + options_.bearer_key);
        });

        std::vector<int64_t> done;
        for (size_t i = 0; i < claimed.size(); ++i) {
          if (claimed[i].blocked) continue;
          const RawCall& call = sent_index[i] == SIZE_MAX ? calls[i] : to_send[sent_index[i]];
          const Claimed& c = claimed[i];
          if (call.status.ok()) {
            LogInfo("relay delivered", {{"server", options_.name},
                                        {"event_id", c.event.event_id},
                                        {"kind", c.event.kind_name},
                                        {"attempts", c.attempts + 1},
                                        {"request_id", c.event.request_id}});
            done.push_back(c.event.seq);
            sent.push_back({c.event.kind_name, true, absl::Now() - c.created});
            if (on_delivered_) on_delivered_(conn, c.event, call.reply);
            continue;
          }
          sent.push_back({c.event.kind_name, false, absl::ZeroDuration()});
          MarkFailed(conn, c.event, c.attempts, FromGrpcStatus(call.status));
        }
        MarkDelivered(conn, done);
        delivered = static_cast<int>(done.size());
        return absl::OkStatus();
      },
      /*read_committed=*/true);  // the claim must not lock the gap new events go into
  if (!status.ok()) return status;
  for (const Sent& s : sent) {
    if (!s.ok) {
      Metrics().failures.Add({{"kind", s.kind}}).Increment();
      continue;
    }
    Metrics().deliveries.Add({{"kind", s.kind}}).Increment();
    Metrics()
        .latency.Add({{"kind", s.kind}}, common::LatencyBuckets())
        .Observe(absl::ToDoubleSeconds(s.age));
  }
  return delivered;
}

std::set<int64_t> OutboxRelay::LeadsWithEarlierPending(
    sql::Connection& conn, const std::map<int64_t, int64_t>& first_seq) {
  std::set<int64_t> blocked;
  if (first_seq.empty()) return blocked;
  auto st = Prepare(conn, absl::StrCat(kOldestPendingOfLeads, "(",
                                       Placeholders(first_seq.size(), "?"), ") GROUP BY lead_id"));
  int p = 1;
  for (const auto& [lead, seq] : first_seq) st->setInt64(p++, lead);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  while (rs->next()) {
    if (rs->getInt64(2) < first_seq.at(rs->getInt64(1))) blocked.insert(rs->getInt64(1));
  }
  return blocked;
}

void OutboxRelay::MarkDelivered(sql::Connection& conn, const std::vector<int64_t>& seqs) {
  if (seqs.empty()) return;
  auto st = Prepare(conn, absl::StrCat(kDelivered, "(", Placeholders(seqs.size(), "?"), ")"));
  for (size_t i = 0; i < seqs.size(); ++i) st->setInt64(static_cast<int>(i) + 1, seqs[i]);
  st->executeUpdate();
}

void OutboxRelay::MarkFailed(sql::Connection& conn, const RelayedEvent& event, int attempts,
                             const absl::Status& error) {
  thread_local std::minstd_rand rng(std::random_device{}());
  std::uniform_real_distribution<double> jitter(0, 1);
  const absl::Duration backoff =
      RetryBackoff(attempts + 1, options_.initial_backoff, options_.max_backoff, jitter(rng));
  auto failed = Prepare(conn, kFailed);
  failed->setString(1, std::string(error.ToString()).substr(0, 2000));
  failed->setInt64(2, absl::ToInt64Microseconds(backoff));
  failed->setInt64(3, event.seq);
  failed->executeUpdate();
  LogWarning("relay delivery failed", {{"server", options_.name},
                                       {"event_id", event.event_id},
                                       {"kind", event.kind_name},
                                       {"attempts", attempts + 1},
                                       {"request_id", event.request_id},
                                       {"error", error.ToString()}});
}

}  // namespace funnel::handoff
