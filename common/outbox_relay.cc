#include "common/outbox_relay.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/generic_call.h"
#include "common/log.h"
#include "common/mysql/sql_util.h"
#include "common/status.h"

namespace funnel::common {
namespace {

constexpr absl::string_view kClaim = R"sql(
  SELECT seq, event_id, lead_id, kind, payload, attempts FROM outbox
  WHERE delivered_at IS NULL AND next_attempt_at <= NOW(6)
  ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED)sql";
constexpr absl::string_view kEarlierPending = R"sql(
  SELECT 1 FROM outbox WHERE lead_id = ? AND seq < ? AND delivered_at IS NULL LIMIT 1)sql";
constexpr absl::string_view kDelivered = R"sql(
  UPDATE outbox SET delivered_at = NOW(6), attempts = attempts + 1, last_error = ''
  WHERE seq = ?)sql";
constexpr absl::string_view kFailed = R"sql(
  UPDATE outbox SET attempts = attempts + 1, last_error = ?,
    next_attempt_at = NOW(6) + INTERVAL ? MICROSECOND
  WHERE seq = ?)sql";

}  // namespace

std::string MethodForKind(absl::string_view kind) {
  if (kind == "LeadHandoff") return "/funnel.handoff.v1.HandoffInboxService/SubmitLead";
  if (kind == "LeadErasure") return "/funnel.handoff.v1.HandoffInboxService/EraseLead";
  if (kind == "HandoffDecision") return "/funnel.handoff.v1.HandoffFeedbackService/ReportDecision";
  if (kind == "DealOutcome") return "/funnel.handoff.v1.HandoffFeedbackService/ReportOutcome";
  return "";
}

absl::Duration RetryBackoff(int attempts, absl::Duration initial, absl::Duration cap, double jitter) {
  absl::Duration d = initial;
  for (int i = 1; i < attempts && d < cap; ++i) d *= 2;
  d = std::min(d, cap);
  return d * (0.8 + 0.4 * jitter);
}

OutboxRelay::OutboxRelay(ConnectionPool* pool, RelayOptions options, DeliveredHook on_delivered)
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
        LogWarning("relay pass failed", {{"server", options_.name}, {"error", delivered.status().ToString()}});
        break;
      }
      if (*delivered == 0) break;
      absl::MutexLock lock(&mu_);
      if (stop_) return;
    }
  }
}

absl::Status OutboxRelay::Send(const std::string& method, const std::string& payload,
                               std::string* response) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(options_.call_deadline));
  if (!options_.bearer_key.empty()) ctx.AddMetadata("authorization", "Bearer " + options_.bearer_key);
  return FromGrpcStatus(BlockingRawCall(stub_, &ctx, method, payload, response));
}

absl::StatusOr<int> OutboxRelay::RunOnce() {
  thread_local std::minstd_rand rng(std::random_device{}());
  int delivered = 0;
  absl::Status status = pool_->InTransaction("relay", [&](sql::Connection& conn) -> absl::Status {
    delivered = 0;
    auto claim = Prepare(conn, kClaim);
    claim->setInt(1, options_.batch_size);
    std::unique_ptr<sql::ResultSet> rs(claim->executeQuery());
    std::set<int64_t> blocked_leads;
    while (rs->next()) {
      RelayedEvent event{rs->getInt64(1), rs->getString(2), rs->getInt64(3), rs->getString(4)};
      const std::string payload = rs->getString(5);
      const int attempts = rs->getInt(6);
      if (blocked_leads.count(event.lead_id)) continue;
      auto earlier = Prepare(conn, kEarlierPending);
      earlier->setInt64(1, event.lead_id);
      earlier->setInt64(2, event.seq);
      std::unique_ptr<sql::ResultSet> pending(earlier->executeQuery());
      if (pending->next()) {  // an older event of this lead goes first
        blocked_leads.insert(event.lead_id);
        continue;
      }
      const std::string method = MethodForKind(event.kind);
      std::string response;
      absl::Status sent = method.empty()
                              ? absl::InternalError(absl::StrCat("unknown event kind ", event.kind))
                              : Send(method, payload, &response);
      if (sent.ok()) {
        auto done = Prepare(conn, kDelivered);
        done->setInt64(1, event.seq);
        done->executeUpdate();
        if (on_delivered_) on_delivered_(conn, event, response);
        ++delivered;
        continue;
      }
      blocked_leads.insert(event.lead_id);
      std::uniform_real_distribution<double> jitter(0, 1);
      const absl::Duration backoff = RetryBackoff(attempts + 1, options_.initial_backoff,
                                                  options_.max_backoff, jitter(rng));
      auto failed = Prepare(conn, kFailed);
      failed->setString(1, std::string(sent.ToString()).substr(0, 2000));
      failed->setInt64(2, absl::ToInt64Microseconds(backoff));
      failed->setInt64(3, event.seq);
      failed->executeUpdate();
      LogWarning("relay delivery failed", {{"server", options_.name},
                                           {"event_id", event.event_id},
                                           {"kind", event.kind},
                                           {"attempts", attempts + 1},
                                           {"error", sent.ToString()}});
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return delivered;
}

}  // namespace funnel::common
