#pragma once

// SQL for handoff routing: the rules (CRUD and order), and routing a handoff inside
// the transaction that receives or escalates it. The rules themselves are pure
// (routing.h); this loads what they need and keeps the round-robin's state.

#include <cppconn/connection.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "common/mysql/pool.h"
#include "common/request_key.h"
#include "funnel/handoff/v1/handoff.pb.h"
#include "funnel/sales/v1/sales_service.pb.h"

namespace funnel::sales {

class RoutingStore final {
 public:
  explicit RoutingStore(common::ConnectionPool* pool) : pool_(pool) {}

  // `rule` is valid (CheckRule). Appended after the existing rules. NOT_FOUND
  // naming the field for an unknown rep; FAILED_PRECONDITION when there are
  // kMaxRoutingRules already.
  absl::StatusOr<v1::RoutingRule> Create(const v1::RoutingRule& rule,
                                         const common::RequestKey& request_id);
  // In the order they are tried.
  absl::StatusOr<v1::ListRoutingRulesResponse> List();
  // Sets `paths` of rule.rule_id from `rule`. NOT_FOUND; ABORTED for a stale etag;
  // INVALID_ARGUMENT when the result is not a valid rule; NOT_FOUND for an
  // unknown rep.
  absl::StatusOr<v1::RoutingRule> Update(const v1::RoutingRule& rule,
                                         const std::vector<std::string>& paths,
                                         const common::RequestKey& request_id);
  // NOT_FOUND; ABORTED for a stale etag. Handoffs it routed keep their rep and no
  // longer escalate.
  absl::Status Delete(int64_t rule_id, const std::string& etag);
  // `rule_ids` must name every rule once (INVALID_ARGUMENT otherwise).
  absl::StatusOr<v1::ListRoutingRulesResponse> Reorder(const std::vector<int64_t>& rule_ids);

 private:
  common::ConnectionPool* const pool_;
};

// Where routing put a handoff.
struct RouteResult {
  int64_t rep_id = 0;  // 0: the default queue
  v1::AssignmentReason reason = v1::ASSIGNMENT_REASON_DEFAULT_QUEUE;
  int64_t rule_id = 0;
  std::string note;
  bool escalates = false;  // the rule escalates unanswered handoffs
  int max_escalations = 0;
};

// Routes handoffs within one transaction. The rules are read once; each rule's
// row is locked when first used, which serialises its round-robin across the
// service's replicas, and reps' loads are read with shared locks so capacity
// holds under concurrency.
class Router final {
 public:
  explicit Router(sql::Connection& conn);

  // An expansion's account owner when free to take it, else the first matching
  // rule's pick, else the default queue.
  RouteResult Route(const handoff::v1::LeadHandoff& lead);
  // The next free rep of rule `rule_id`'s pool other than `current_rep_id`, or
  // its manager (per the rule's escalation mode). nullopt when the rule is gone or
  // does not escalate, or when nobody is free (then `retry_later` is set).
  std::optional<RouteResult> Escalate(int64_t rule_id, int64_t current_rep_id, bool* retry_later);

 private:
  // Round-robin over the rule's pool, `exclude` left out; nullopt when nobody is
  // free.
  std::optional<int64_t> PickFromPool(const v1::RoutingRule& rule, int64_t exclude,
                                      std::string* note);
  void Lock(int64_t rule_id);

  sql::Connection& conn_;
  std::vector<v1::RoutingRule> rules_;
  absl::flat_hash_set<int64_t> locked_;
};

}  // namespace funnel::sales
