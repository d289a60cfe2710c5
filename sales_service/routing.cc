#include "sales_service/routing.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace funnel::sales {
namespace {

bool OneOf(const google::protobuf::RepeatedPtrField<std::string>& allowed,
           const std::string& value) {
  const std::string v = absl::AsciiStrToLower(absl::StripAsciiWhitespace(value));
  return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& a) {
    return absl::AsciiStrToLower(absl::StripAsciiWhitespace(a)) == v;
  });
}

}  // namespace

bool Matches(const v1::RoutingMatch& match, const handoff::v1::LeadHandoff& lead) {
  const handoff::v1::Contact& c = lead.contact();
  if (!match.regions().empty() && !OneOf(match.regions(), c.region())) return false;
  if (!match.industries().empty() && !OneOf(match.industries(), c.industry())) return false;
  const bool bounded = match.min_company_size() > 0 || match.max_company_size() > 0;
  if (bounded && c.company_size() <= 0) return false;
  if (match.min_company_size() > 0 && c.company_size() < match.min_company_size()) return false;
  if (match.max_company_size() > 0 && c.company_size() > match.max_company_size()) return false;
  if (!match.campaign_ids().empty()) {
    const auto& ids = match.campaign_ids();
    const auto touched = [&](int64_t id) {
      return id != 0 && std::find(ids.begin(), ids.end(), id) != ids.end();
    };
    if (!touched(lead.first_touch_campaign_id()) && !touched(lead.last_touch_campaign_id())) {
      return false;
    }
  }
  if (match.min_temperature() != handoff::v1::TEMPERATURE_UNSPECIFIED &&
      lead.temperature() < match.min_temperature()) {
    return false;
  }
  if (match.min_score() > 0 && lead.score() < match.min_score()) return false;
  if (match.qualification_method() != handoff::v1::QUALIFICATION_METHOD_UNSPECIFIED &&
      lead.qualification().method() != match.qualification_method()) {
    return false;
  }
  return true;
}

std::optional<size_t> FirstMatch(const std::vector<v1::RoutingRule>& rules,
                                 const handoff::v1::LeadHandoff& lead) {
  for (size_t i = 0; i < rules.size(); ++i) {
    if (Matches(rules[i].match(), lead)) return i;
  }
  return std::nullopt;
}

void CheckRule(const v1::RoutingRule& rule, const std::string& field, common::FieldViolations& v) {
  const auto name = [&](absl::string_view sub) { return absl::StrCat(field, ".", sub); };
  if (rule.name().empty()) v.Add(name("name"), "required");
  if (rule.name().size() > 200) v.Add(name("name"), "longer than 200 characters");
  const v1::RoutingMatch& m = rule.match();
  for (const auto* list : {&m.regions(), &m.industries()}) {
    const char* which = list == &m.regions() ? "match.regions" : "match.industries";
    if (list->size() > 50) v.Add(name(which), "at most 50 values");
    for (const std::string& s : *list) {
      if (absl::StripAsciiWhitespace(s).empty() || s.size() > 100) {
        v.Add(name(which), "each value 1 to 100 characters");
        break;
      }
    }
  }
  if (m.min_company_size() < 0) v.Add(name("match.min_company_size"), "must not be negative");
  if (m.max_company_size() < 0) v.Add(name("match.max_company_size"), "must not be negative");
  if (m.max_company_size() > 0 && m.min_company_size() > m.max_company_size()) {
    v.Add(name("match.max_company_size"), "smaller than min_company_size");
  }
  if (m.campaign_ids().size() > 50) v.Add(name("match.campaign_ids"), "at most 50 values");
  for (int64_t id : m.campaign_ids()) {
    if (id <= 0) {
      v.Add(name("match.campaign_ids"), "each must be positive");
      break;
    }
  }
  if (!handoff::v1::Temperature_IsValid(m.min_temperature())) {
    v.Add(name("match.min_temperature"), "unknown value");
  }
  if (!(m.min_score() >= 0 && m.min_score() <= 1e9)) {
    v.Add(name("match.min_score"), "0 or more");
  }
  if (!handoff::v1::QualificationMethod_IsValid(m.qualification_method())) {
    v.Add(name("match.qualification_method"), "unknown value");
  }
  const bool team = rule.team_manager_rep_id() != 0;
  if (team == !rule.pool().empty()) {
    v.Add(name("pool"), "set either team_manager_rep_id or pool");
  }
  if (rule.team_manager_rep_id() < 0) v.Add(name("team_manager_rep_id"), "must be positive");
  if (rule.pool_size() > kMaxPoolMembers) {
    v.Add(name("pool"), absl::StrCat("at most ", kMaxPoolMembers, " reps"));
  }
  absl::flat_hash_set<int64_t> seen;
  for (int i = 0; i < rule.pool_size(); ++i) {
    const v1::PoolMember& p = rule.pool(i);
    if (p.rep_id() <= 0) {
      v.Add(name(absl::StrCat("pool[", i, "].rep_id")), "must be positive");
    } else if (!seen.insert(p.rep_id()).second) {
      v.Add(name(absl::StrCat("pool[", i, "].rep_id")), "listed twice");
    }
    if (p.weight() < 0 || p.weight() > 100) {
      v.Add(name(absl::StrCat("pool[", i, "].weight")), "1 to 100 (0 means 1)");
    }
  }
  if (!v1::EscalationMode_IsValid(rule.escalation())) {
    v.Add(name("escalation"), "unknown value");
  }
  const bool escalates = rule.escalation() == v1::ESCALATION_MODE_NEXT_IN_POOL ||
                         rule.escalation() == v1::ESCALATION_MODE_MANAGER;
  if (escalates && (rule.max_escalations() < 1 || rule.max_escalations() > kMaxEscalations)) {
    v.Add(name("max_escalations"), absl::StrCat("1 to ", kMaxEscalations, " with an escalation"));
  }
  if (!escalates && rule.max_escalations() != 0) {
    v.Add(name("max_escalations"), "needs an escalation mode");
  }
}

bool CanTakeHandoff(const RepLoad& rep) {
  return rep.active && !rep.away && (rep.capacity <= 0 || rep.pending < rep.capacity);
}

std::optional<size_t> PickSmoothWeighted(std::vector<PoolSlot>& slots) {
  int64_t total = 0;
  std::optional<size_t> best;
  for (size_t i = 0; i < slots.size(); ++i) {
    PoolSlot& s = slots[i];
    if (!s.eligible) continue;
    s.current += s.weight;
    total += s.weight;
    if (!best || s.current > slots[*best].current ||
        (s.current == slots[*best].current && s.rep_id < slots[*best].rep_id)) {
      best = i;
    }
  }
  if (best) slots[*best].current -= total;
  return best;
}

int EffectiveWeight(const v1::PoolMember& member) {
  return member.weight() <= 0 ? 1 : member.weight();
}

}  // namespace funnel::sales
