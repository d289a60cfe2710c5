#include "sales_service/routing_store.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/field_violations.h"
#include "common/mysql/idempotency.h"
#include "common/mysql/sql_util.h"
#include "common/status.h"
#include "common/time_util.h"
#include "common/validation.h"
#include "sales_service/directory_store.h"
#include "sales_service/routing.h"

namespace funnel::sales {
namespace {

using common::Placeholders;
using common::Prepare;

constexpr absl::string_view kRuleColumns =
    "rule_id, position, rule, version, UNIX_TIMESTAMP(created_at)";
const std::string kSelectRules =
    absl::StrCat("SELECT ", kRuleColumns, " FROM routing_rules ORDER BY position, rule_id");
const std::string kLockRules = absl::StrCat(kSelectRules, " FOR UPDATE");
const std::string kSelectRuleForUpdate =
    absl::StrCat("SELECT ", kRuleColumns, " FROM routing_rules WHERE rule_id = ? FOR UPDATE");
constexpr absl::string_view kLockRule =
    "SELECT rule_id FROM routing_rules WHERE rule_id = ? FOR UPDATE";
constexpr absl::string_view kInsertRule =
    "INSERT INTO routing_rules (position, rule) VALUES (?, ?)";
constexpr absl::string_view kUpdateRule =
    "UPDATE routing_rules SET rule = ?, version = version + 1 WHERE rule_id = ?";
constexpr absl::string_view kSetPosition =
    "UPDATE routing_rules SET position = ?, version = version + 1 WHERE rule_id = ?";
constexpr absl::string_view kDeleteRule = "DELETE FROM routing_rules WHERE rule_id = ?";
constexpr absl::string_view kDeletePoolState = "DELETE FROM routing_pool_state WHERE rule_id = ?";
// A deleted rule's handoffs keep their rep; nothing escalates them any more.
const std::string kStopEscalations =
    absl::StrCat("UPDATE handoffs SET escalate_at = NULL WHERE state = ", v1::HANDOFF_STATE_PENDING,
                 " AND escalate_at IS NOT NULL AND routing_rule_id = ?");

// The account's owner: the rep who last won a deal on it, with what routing needs
// to know of their load.
const std::string kAccountOwner = absl::StrCat(
    "SELECT o.owner_rep_id, r.active, r.away, r.handoff_capacity, "
    "(SELECT COUNT(*) FROM handoffs h WHERE h.state = ",
    v1::HANDOFF_STATE_PENDING,
    " AND h.assigned_rep_id = o.owner_rep_id) "
    "FROM opportunities o JOIN reps r ON r.rep_id = o.owner_rep_id "
    "WHERE o.account_id = ? AND o.stage = ",
    v1::STAGE_CLOSED_WON, " ORDER BY o.closed_at DESC, o.opportunity_id DESC LIMIT 1");
constexpr absl::string_view kTeam =
    "SELECT rep_id FROM reps WHERE manager_rep_id = ? ORDER BY rep_id";
// Shared locks: a concurrent change to a rep's availability or load commits
// before or after this routing, never beside it.
constexpr absl::string_view kRepLoads =
    "SELECT rep_id, active, away, handoff_capacity FROM reps WHERE rep_id IN ";
const std::string kPendingCounts = absl::StrCat(
    "SELECT assigned_rep_id, COUNT(*) FROM handoffs WHERE state = ", v1::HANDOFF_STATE_PENDING,
    " AND assigned_rep_id IN ");
constexpr absl::string_view kPoolState =
    "SELECT rep_id, current_weight FROM routing_pool_state WHERE rule_id = ? FOR UPDATE";
constexpr absl::string_view kSavePoolState =
    "INSERT INTO routing_pool_state (rule_id, rep_id, current_weight) VALUES ";
constexpr absl::string_view kSavePoolStateUpsert =
    " ON DUPLICATE KEY UPDATE current_weight = VALUES(current_weight)";

v1::RoutingRule RuleFromRow(sql::ResultSet& rs) {
  v1::RoutingRule rule;
  rule.ParseFromString(std::string(rs.getString(3)));
  rule.set_rule_id(rs.getInt64(1));
  rule.set_position(rs.getInt(2));
  rule.set_etag(absl::StrCat(rs.getInt64(4)));
  *rule.mutable_create_time() = common::ToProtoTime(common::TimeFromUnixSeconds(rs.getDouble(5)));
  return rule;
}

std::vector<v1::RoutingRule> ReadRules(sql::Connection& conn, const std::string& query) {
  std::vector<v1::RoutingRule> rules;
  auto st = Prepare(conn, query);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  while (rs->next()) rules.push_back(RuleFromRow(*rs));
  return rules;
}

absl::StatusOr<v1::RoutingRule> LockRule(sql::Connection& conn, int64_t rule_id) {
  auto st = Prepare(conn, kSelectRuleForUpdate);
  st->setInt64(1, rule_id);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  if (!rs->next()) {
    return absl::NotFoundError(absl::StrCat("routing rule ", rule_id, " not found"));
  }
  return RuleFromRow(*rs);
}

// What is stored: the rule without its output-only fields.
std::string Stored(v1::RoutingRule rule) {
  rule.clear_rule_id();
  rule.clear_position();
  rule.clear_etag();
  rule.clear_create_time();
  for (v1::PoolMember& m : *rule.mutable_pool()) m.set_weight(EffectiveWeight(m));
  if (rule.escalation() == v1::ESCALATION_MODE_UNSPECIFIED) {
    rule.set_escalation(v1::ESCALATION_MODE_NONE);
  }
  return rule.SerializeAsString();
}

void WriteRuleBlob(sql::PreparedStatement& st, int index, const v1::RoutingRule& rule,
                   std::istringstream& blob) {
  blob.str(Stored(rule));
  st.setBlob(index, &blob);
}

// The reps a rule names exist; a team's manager is a MANAGER.
absl::Status CheckReps(sql::Connection& conn, const v1::RoutingRule& rule) {
  if (rule.team_manager_rep_id() != 0) {
    ASSIGN_OR_RETURN(v1::Rep manager,
                     ReadRep(conn, rule.team_manager_rep_id(), "rule.team_manager_rep_id"));
    if (manager.role() != v1::REP_ROLE_MANAGER) {
      return common::WithReason(
          absl::FailedPreconditionError(absl::StrCat("rule.team_manager_rep_id: rep ",
                                                     manager.rep_id(), " is not a MANAGER")),
          errors::v1::NOT_A_MANAGER);
    }
  }
  for (int i = 0; i < rule.pool_size(); ++i) {
    RETURN_IF_ERROR(
        ReadRep(conn, rule.pool(i).rep_id(), absl::StrCat("rule.pool[", i, "].rep_id")).status());
  }
  return absl::OkStatus();
}

v1::ListRoutingRulesResponse AsList(std::vector<v1::RoutingRule> rules) {
  v1::ListRoutingRulesResponse out;
  for (v1::RoutingRule& r : rules) *out.add_rules() = std::move(r);
  return out;
}

std::string RuleName(const v1::RoutingRule& rule) {
  return absl::StrCat("rule ", rule.rule_id(), " (", rule.name(), ")");
}

}  // namespace

absl::StatusOr<v1::RoutingRule> RoutingStore::Create(const v1::RoutingRule& rule,
                                                     const common::RequestKey& request_id) {
  return common::IdempotentTransaction<v1::RoutingRule>(
      *pool_, "CreateRoutingRule", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::RoutingRule> {
        // Locking every rule serialises creations, so positions stay distinct.
        const std::vector<v1::RoutingRule> rules = ReadRules(conn, kLockRules);
        if (rules.size() >= static_cast<size_t>(kMaxRoutingRules)) {
          return absl::FailedPreconditionError(absl::StrCat(
              "there are ", rules.size(), " routing rules, the most there may be; delete one"));
        }
        RETURN_IF_ERROR(CheckReps(conn, rule));
        auto st = Prepare(conn, kInsertRule);
        std::istringstream blob;
        st->setInt(1, rules.empty() ? 1 : rules.back().position() + 1);
        WriteRuleBlob(*st, 2, rule, blob);
        st->executeUpdate();
        return LockRule(conn, common::LastInsertId(conn));
      });
}

absl::StatusOr<v1::ListRoutingRulesResponse> RoutingStore::List() {
  std::vector<v1::RoutingRule> rules;
  RETURN_IF_ERROR(pool_->WithConnection("list routing rules", [&](sql::Connection& conn) {
    rules = ReadRules(conn, kSelectRules);
    return absl::OkStatus();
  }));
  return AsList(std::move(rules));
}

absl::StatusOr<v1::RoutingRule> RoutingStore::Update(const v1::RoutingRule& rule,
                                                     const std::vector<std::string>& paths,
                                                     const common::RequestKey& request_id) {
  return common::IdempotentTransaction<v1::RoutingRule>(
      *pool_, "UpdateRoutingRule", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::RoutingRule> {
        ASSIGN_OR_RETURN(v1::RoutingRule current, LockRule(conn, rule.rule_id()));
        RETURN_IF_ERROR(common::CheckEtag(rule.etag(), current.etag(), "rule.etag", "rule"));
        for (const std::string& p : paths) {
          if (p == "name") current.set_name(rule.name());
          if (p == "match") *current.mutable_match() = rule.match();
          if (p == "team_manager_rep_id") {
            current.set_team_manager_rep_id(rule.team_manager_rep_id());
          }
          if (p == "pool") *current.mutable_pool() = rule.pool();
          if (p == "escalation") current.set_escalation(rule.escalation());
          if (p == "max_escalations") current.set_max_escalations(rule.max_escalations());
        }
        common::FieldViolations v;
        CheckRule(current, "rule", v);
        RETURN_IF_ERROR(v.status());
        RETURN_IF_ERROR(CheckReps(conn, current));
        auto st = Prepare(conn, kUpdateRule);
        std::istringstream blob;
        WriteRuleBlob(*st, 1, current, blob);
        st->setInt64(2, current.rule_id());
        st->executeUpdate();
        return LockRule(conn, current.rule_id());
      });
}

absl::Status RoutingStore::Delete(int64_t rule_id, const std::string& etag) {
  return pool_->InTransaction("delete routing rule", [&](sql::Connection& conn) -> absl::Status {
    ASSIGN_OR_RETURN(v1::RoutingRule current, LockRule(conn, rule_id));
    RETURN_IF_ERROR(common::CheckEtag(etag, current.etag(), "etag", "rule"));
    for (absl::string_view sql :
         {kDeleteRule, kDeletePoolState, absl::string_view(kStopEscalations)}) {
      auto st = Prepare(conn, sql);
      st->setInt64(1, rule_id);
      st->executeUpdate();
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::ListRoutingRulesResponse> RoutingStore::Reorder(
    const std::vector<int64_t>& rule_ids) {
  std::vector<v1::RoutingRule> rules;
  RETURN_IF_ERROR(
      pool_->InTransaction("reorder routing rules", [&](sql::Connection& conn) -> absl::Status {
        const std::vector<v1::RoutingRule> current = ReadRules(conn, kLockRules);
        absl::flat_hash_set<int64_t> known, seen;
        for (const v1::RoutingRule& r : current) known.insert(r.rule_id());
        for (int64_t id : rule_ids) {
          if (!known.contains(id)) {
            return absl::InvalidArgumentError(
                absl::StrCat("rule_ids: ", id, " is not a routing rule"));
          }
          if (!seen.insert(id).second) {
            return absl::InvalidArgumentError(absl::StrCat("rule_ids: ", id, " listed twice"));
          }
        }
        if (seen.size() != known.size()) {
          return absl::InvalidArgumentError(absl::StrCat("rule_ids: must list every rule once (",
                                                         known.size(), " rules, ", seen.size(),
                                                         " listed)"));
        }
        for (size_t i = 0; i < rule_ids.size(); ++i) {
          auto st = Prepare(conn, kSetPosition);
          st->setInt(1, static_cast<int>(i) + 1);
          st->setInt64(2, rule_ids[i]);
          st->executeUpdate();
        }
        rules = ReadRules(conn, kSelectRules);
        return absl::OkStatus();
      }));
  return AsList(std::move(rules));
}

Router::Router(sql::Connection& conn) : conn_(conn), rules_(ReadRules(conn, kSelectRules)) {}

void Router::Lock(int64_t rule_id) {
  if (!locked_.insert(rule_id).second) return;
  auto st = Prepare(conn_, kLockRule);
  st->setInt64(1, rule_id);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
}

RouteResult Router::Route(const handoff::v1::LeadHandoff& lead) {
  RouteResult result;
  if (lead.business_type() == handoff::v1::BUSINESS_TYPE_EXPANSION && lead.account_id() > 0) {
    auto st = Prepare(conn_, kAccountOwner);
    st->setInt64(1, CurrentAccountId(conn_, lead.account_id()));  // its survivor, if merged
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    if (rs->next() &&
        CanTakeHandoff({rs->getBoolean(2), rs->getBoolean(3), rs->getInt(4), rs->getInt64(5)})) {
      result.rep_id = rs->getInt64(1);
      result.reason = v1::ASSIGNMENT_REASON_ACCOUNT_OWNER;
      result.note = absl::StrCat("expansion: owner of account ", lead.account_id());
      return result;
    }
  }
  const std::optional<size_t> match = FirstMatch(rules_, lead);
  if (!match) {
    result.note = rules_.empty() ? "no routing rules" : "no routing rule matched";
    return result;
  }
  const v1::RoutingRule& rule = rules_[*match];
  result.rule_id = rule.rule_id();
  result.escalates = (rule.escalation() == v1::ESCALATION_MODE_NEXT_IN_POOL ||
                      rule.escalation() == v1::ESCALATION_MODE_MANAGER) &&
                     rule.max_escalations() > 0;
  result.max_escalations = rule.max_escalations();
  Lock(rule.rule_id());
  std::string note;
  if (std::optional<int64_t> rep = PickFromPool(rule, 0, &note)) {
    result.rep_id = *rep;
    result.reason = v1::ASSIGNMENT_REASON_ROUTING_RULE;
    result.note = absl::StrCat(RuleName(rule), ": ", note);
  } else {
    result.note = absl::StrCat(RuleName(rule), " matched; ", note);
  }
  return result;
}

std::optional<RouteResult> Router::Escalate(int64_t rule_id, int64_t current_rep_id,
                                            bool* retry_later) {
  *retry_later = false;
  const auto it = std::find_if(rules_.begin(), rules_.end(),
                               [&](const v1::RoutingRule& r) { return r.rule_id() == rule_id; });
  if (it == rules_.end()) return std::nullopt;
  const v1::RoutingRule& rule = *it;
  RouteResult result;
  result.reason = v1::ASSIGNMENT_REASON_ESCALATION;
  result.rule_id = rule_id;
  result.escalates = true;
  result.max_escalations = rule.max_escalations();
  if (rule.escalation() == v1::ESCALATION_MODE_NEXT_IN_POOL) {
    Lock(rule_id);
    std::string note;
    std::optional<int64_t> rep = PickFromPool(rule, current_rep_id, &note);
    if (!rep) {
      *retry_later = true;
      return std::nullopt;
    }
    result.rep_id = *rep;
    result.note = absl::StrCat("no first response in time; next in ", RuleName(rule), "'s pool");
    return result;
  }
  if (rule.escalation() == v1::ESCALATION_MODE_MANAGER && current_rep_id != 0) {
    absl::StatusOr<v1::Rep> current = ReadRep(conn_, current_rep_id, "assigned rep");
    const int64_t manager = current.ok() ? current->manager_rep_id() : 0;
    if (manager == 0) return std::nullopt;
    absl::StatusOr<v1::Rep> m = ReadRep(conn_, manager, "manager");
    if (!m.ok() || !CanTakeHandoff({m->active(), m->away(), 0, 0})) {
      *retry_later = true;
      return std::nullopt;
    }
    result.rep_id = manager;
    result.note = absl::StrCat("no first response in time; to rep ", current_rep_id, "'s manager (",
                               RuleName(rule), ")");
    return result;
  }
  return std::nullopt;
}

std::optional<int64_t> Router::PickFromPool(const v1::RoutingRule& rule, int64_t exclude,
                                            std::string* note) {
  std::vector<PoolSlot> slots;
  if (rule.team_manager_rep_id() != 0) {
    auto st = Prepare(conn_, kTeam);
    st->setInt64(1, rule.team_manager_rep_id());
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    while (rs->next()) slots.push_back({rs->getInt64(1), 1, 0, false});
  } else {
    for (const v1::PoolMember& m : rule.pool()) {
      slots.push_back({m.rep_id(), EffectiveWeight(m), 0, false});
    }
  }
  slots.erase(std::remove_if(slots.begin(), slots.end(),
                             [&](const PoolSlot& s) { return s.rep_id == exclude; }),
              slots.end());
  if (slots.empty()) {
    *note = "its pool is empty";
    return std::nullopt;
  }
  const auto bind_ids = [&](sql::PreparedStatement& st, int first) {
    for (size_t i = 0; i < slots.size(); ++i) st.setInt64(first + i, slots[i].rep_id);
  };
  absl::flat_hash_map<int64_t, RepLoad> loads;
  bool capped = false;
  {
    auto st = Prepare(conn_, absl::StrCat(kRepLoads, "(", Placeholders(slots.size(), "?"),
                                          ") LOCK IN SHARE MODE"));
    bind_ids(*st, 1);
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    while (rs->next()) {
      RepLoad& load = loads[rs->getInt64(1)];
      load.active = rs->getBoolean(2);
      load.away = rs->getBoolean(3);
      load.capacity = rs->getInt(4);
      capped = capped || load.capacity > 0;
    }
  }
  if (capped) {
    auto st = Prepare(conn_, absl::StrCat(kPendingCounts, "(", Placeholders(slots.size(), "?"),
                                          ") GROUP BY assigned_rep_id LOCK IN SHARE MODE"));
    bind_ids(*st, 1);
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    while (rs->next()) loads[rs->getInt64(1)].pending = rs->getInt64(2);
  }
  absl::flat_hash_map<int64_t, int64_t> state;
  {
    auto st = Prepare(conn_, kPoolState);
    st->setInt64(1, rule.rule_id());
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    while (rs->next()) state[rs->getInt64(1)] = rs->getInt64(2);
  }
  int free = 0;
  for (PoolSlot& s : slots) {
    const auto load = loads.find(s.rep_id);
    s.eligible = load != loads.end() && CanTakeHandoff(load->second);
    free += s.eligible ? 1 : 0;
    if (const auto it = state.find(s.rep_id); it != state.end()) s.current = it->second;
  }
  const std::optional<size_t> pick = PickSmoothWeighted(slots);
  if (!pick) {
    *note = absl::StrCat("nobody of its ", slots.size(),
                         " reps is free (away, inactive or at capacity)");
    return std::nullopt;
  }
  std::vector<const PoolSlot*> changed;
  for (const PoolSlot& s : slots) {
    if (s.eligible) changed.push_back(&s);
  }
  auto save = Prepare(conn_, absl::StrCat(kSavePoolState, Placeholders(changed.size(), "(?, ?, ?)"),
                                          kSavePoolStateUpsert));
  for (size_t i = 0; i < changed.size(); ++i) {
    save->setInt64(3 * i + 1, rule.rule_id());
    save->setInt64(3 * i + 2, changed[i]->rep_id);
    save->setInt64(3 * i + 3, changed[i]->current);
  }
  save->executeUpdate();
  *note = absl::StrCat("round-robin, ", free, " of ", slots.size(), " reps free");
  return slots[*pick].rep_id;
}

}  // namespace funnel::sales
