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
#include "common/ids.h"
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
// The lease: claimed events are not claimable again until next_attempt_at.
constexpr absl::string_view kLease =
    "UPDATE outbox SET leased_by = ?, next_attempt_at = NOW(6) + INTERVAL ? MICROSECOND WHERE "
    "seq IN ";
constexpr absl::string_view kDelivered =
    "UPDATE outbox SET delivered_at = NOW(6), attempts = attempts + 1, last_error = '', "
    "leased_by = NULL WHERE seq IN ";
// Only while the lease is still this relay's: a relay whose lease ran out and was
// taken over does not push the new holder's attempt back.
constexpr absl::string_view kFailed = R"sql(
  UPDATE outbox SET attempts = attempts + 1, last_error = ?,
    next_attempt_at = NOW(6) + INTERVAL ? MICROSECOND, leased_by = NULL
  WHERE seq = ? AND delivered_at IS NULL AND leased_by = ?)sql";

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
      stub_(options_.gateway),
      relay_id_(absl::StrCat(options_.name, "/", common::NewUuid()).substr(0, 100)) {}

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
  // 1. Claim: lease the batch in a short transaction of its own. The calls go out
  // after it commits, so no transaction is open across them: on a Galera cluster
  // row locks are node-local, and relays on two nodes would both have held "their"
  // lock on the same event; a committed lease is certified cluster-wide (of two
  // relays leasing one event at once, one commit fails and that pass retries).
  struct Claimed {
    RelayedEvent event;
    int attempts;
    absl::Time created;
    RawCall call;
  };
  std::vector<Claimed> claimed;
  absl::Status status = pool_->InTransaction(
      "relay claim",
      [&](sql::Connection& conn) -> absl::Status {
        claimed.clear();
        auto claim = Prepare(conn, kClaim);
        claim->setInt(1, options_.batch_size);
        std::unique_ptr<sql::ResultSet> rs(claim->executeQuery());
        std::map<int64_t, int64_t> first_seq;  // lead -> its oldest claimed event
        std::vector<Claimed> batch;
        while (rs->next()) {
          Claimed c;
          c.event.seq = rs->getInt64(1);
          c.event.event_id = rs->getString(2);
          c.event.lead_id = rs->getInt64(3);
          c.event.kind_name = rs->getString(4);
          c.event.kind = KindFromName(c.event.kind_name);
          // One event per lead per pass keeps each lead's events in order while
          // different leads' events go out together; the rest wait for the next pass.
          if (!first_seq.emplace(c.event.lead_id, c.event.seq).second) continue;
          if (c.event.kind) c.call.method = MethodFor(*c.event.kind);
          c.call.request = rs->getString(5);
          // The request id of the call that caused the event; an older event has
          // none, and its own id serves (a UUID, which is a well-formed request id).
          c.event.request_id = rs->getString(7);
          if (c.event.request_id.empty()) c.event.request_id = c.event.event_id;
          c.call.metadata.emplace_back(common::kRequestIdHeader, c.event.request_id);
          c.attempts = rs->getInt(6);
          c.created = absl::Now() - absl::Microseconds(rs->getInt64(8));
          batch.push_back(std::move(c));
        }
        // An older event of the lead still pending (backing off, or leased by a
        // replica) goes first.
        const std::set<int64_t> blocked = LeadsWithEarlierPending(conn, first_seq);
        for (Claimed& c : batch) {
          if (blocked.count(c.event.lead_id) == 0) claimed.push_back(std::move(c));
        }
        if (claimed.empty()) return absl::OkStatus();
        auto lease =
            Prepare(conn, absl::StrCat(kLease, "(", Placeholders(claimed.size(), "?"), ")"));
        lease->setString(1, relay_id_);
        lease->setInt64(2, absl::ToInt64Microseconds(LeaseDuration()));
        for (size_t i = 0; i < claimed.size(); ++i) {
          lease->setInt64(static_cast<int>(i) + 3, claimed[i].event.seq);
        }
        lease->executeUpdate();
        return absl::OkStatus();
      },
      /*read_committed=*/true);  // the claim must not lock the gap new events go into
  if (!status.ok()) return status;
  if (claimed.empty()) return 0;

  // 2. Send, outside any transaction.
  std::vector<RawCall> to_send;
  std::vector<size_t> sent_index(claimed.size(), SIZE_MAX);
  for (size_t i = 0; i < claimed.size(); ++i) {
    if (claimed[i].call.method.empty()) {
      claimed[i].call.status =
          grpc::Status(grpc::StatusCode::INTERNAL,
                       absl::StrCat("unknown event kind ", claimed[i].event.kind_name));
      continue;
    }
    sent_index[i] = to_send.size();
    to_send.push_back(claimed[i].call);
  }
  ConcurrentRawCalls(stub_, to_send, [this](grpc::ClientContext* ctx) {
    ctx->set_deadline(std::chrono::system_clock::now() +
                      absl::ToChronoMilliseconds(options_.call_deadline));
    if (!options_.bearer_key.empty())
      ctx->AddMetadata("authorization", "Bearer " + options_.bearer_key);
  });
  for (size_t i = 0; i < claimed.size(); ++i) {
    if (sent_index[i] != SIZE_MAX) claimed[i].call = std::move(to_send[sent_index[i]]);
  }

  // 3. Record what the receivers answered. A crash before this commits leaves the
  // lease to run out and the events to be sent again; receivers deduplicate.
  int delivered = 0;
  status = pool_->InTransaction("relay record", [&](sql::Connection& conn) -> absl::Status {
    std::vector<int64_t> done;
    for (const Claimed& c : claimed) {
      if (!c.call.status.ok()) {
        MarkFailed(conn, c.event, c.attempts, FromGrpcStatus(c.call.status));
        continue;
      }
      done.push_back(c.event.seq);
      if (on_delivered_) on_delivered_(conn, c.event, c.call.reply);
    }
    MarkDelivered(conn, done);
    delivered = static_cast<int>(done.size());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  for (const Claimed& c : claimed) {
    if (!c.call.status.ok()) {
      Metrics().failures.Add({{"kind", c.event.kind_name}}).Increment();
      continue;
    }
    LogInfo("relay delivered", {{"server", options_.name},
                                {"event_id", c.event.event_id},
                                {"kind", c.event.kind_name},
                                {"attempts", c.attempts + 1},
                                {"request_id", c.event.request_id}});
    Metrics().deliveries.Add({{"kind", c.event.kind_name}}).Increment();
    Metrics()
        .latency.Add({{"kind", c.event.kind_name}}, common::LatencyBuckets())
        .Observe(absl::ToDoubleSeconds(absl::Now() - c.created));
  }
  return delivered;
}

absl::Duration OutboxRelay::LeaseDuration() const {
  // Longer than every call of the pass can take (they run at once, each within the
  // call deadline), with room for the record transaction; a shorter lease would
  // hand events to another relay mid-send. It is also how long the events of a
  // relay that died mid-send wait before another relay sends them again.
  return options_.call_deadline + absl::Seconds(3);
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
  failed->setString(4, relay_id_);
  failed->executeUpdate();
  LogWarning("relay delivery failed", {{"server", options_.name},
                                       {"event_id", event.event_id},
                                       {"kind", event.kind_name},
                                       {"attempts", attempts + 1},
                                       {"request_id", event.request_id},
                                       {"error", error.ToString()}});
}

}  // namespace funnel::handoff
