// Routing and escalation over the real store: escalation to a manager, a pool with
// nobody free, a rule deleted while its handoffs wait, and rule edits.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/sales/sales_fixture.h"

namespace funnel::sales {
namespace {

using ::testing::HasSubstr;

class RoutingStoreTest : public SalesFixture {
 protected:
  v1::RoutingRule Rule(std::vector<int64_t> pool, v1::EscalationMode mode, int max) {
    v1::RoutingRule rule;
    rule.set_name("rule");
    for (int64_t rep : pool) rule.add_pool()->set_rep_id(rep);
    rule.set_escalation(mode);
    rule.set_max_escalations(max);
    auto created = routing_.Create(rule, "");
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : rule;
  }
  std::string Submit(int64_t lead_id) {
    handoff::v1::LeadHandoff lead = Lead(lead_id, absl::StrCat("p", lead_id, "@x.example"), "X");
    EXPECT_TRUE(inbox_.Submit(lead, absl::Now()).ok());
    return lead.handoff_id();
  }
  v1::Handoff Get(const std::string& id) { return *inbox_.Get(id, absl::Now()); }
  // Makes every pending handoff's escalation due now.
  void TimeRunsOut() {
    db_.Execute(
        "UPDATE handoffs SET escalate_at = NOW(6) - INTERVAL 1 SECOND "
        "WHERE escalate_at IS NOT NULL");
  }
  int64_t Due(const std::string& id) {
    return db_.QueryInt(absl::StrCat(
        "SELECT COUNT(*) FROM handoffs WHERE escalate_at IS NOT NULL AND handoff_id = '", id, "'"));
  }
};

TEST_F(RoutingStoreTest, EscalationGoesToTheManagerAndStopsWhereNobodyIsAbove) {
  const int64_t boss = Rep("boss", v1::REP_ROLE_MANAGER);
  const int64_t rep = Rep("rep", v1::REP_ROLE_REP, boss);
  Rule({rep}, v1::ESCALATION_MODE_MANAGER, 2);
  const std::string id = Submit(1);
  ASSERT_EQ(Get(id).assigned_rep_id(), rep);
  EXPECT_EQ(inbox_.EscalateOverdue(absl::Now(), 100).value(), 0);  // not due yet

  TimeRunsOut();
  EXPECT_EQ(inbox_.EscalateOverdue(absl::Now(), 100).value(), 1);
  v1::Handoff h = Get(id);
  EXPECT_EQ(h.assigned_rep_id(), boss);
  EXPECT_EQ(h.escalation_count(), 1);
  EXPECT_THAT(h.assignments(1).note(), HasSubstr("manager"));
  EXPECT_EQ(Due(id), 1);  // a second escalation is allowed

  // The boss has no manager: it stays with them and nothing more is due.
  TimeRunsOut();
  EXPECT_EQ(inbox_.EscalateOverdue(absl::Now(), 100).value(), 0);
  EXPECT_EQ(Get(id).assigned_rep_id(), boss);
  EXPECT_EQ(Due(id), 0);
}

TEST_F(RoutingStoreTest, APoolWithNobodyFreeIsTriedAgainLaterAndAFirstAnswerStopsIt) {
  const int64_t a = Rep("a", v1::REP_ROLE_REP);
  const int64_t b = Rep("b", v1::REP_ROLE_REP);
  Rule({a, b}, v1::ESCALATION_MODE_NEXT_IN_POOL, 3);
  const std::string id = Submit(1);
  ASSERT_EQ(Get(id).assigned_rep_id(), a);
  db_.Execute(absl::StrCat("UPDATE reps SET away = TRUE WHERE rep_id = ", b));
  TimeRunsOut();
  EXPECT_EQ(inbox_.EscalateOverdue(absl::Now(), 100).value(), 0);
  EXPECT_EQ(Get(id).assigned_rep_id(), a);
  EXPECT_EQ(Due(id), 1);  // postponed, not dropped

  db_.Execute(absl::StrCat("UPDATE reps SET away = FALSE WHERE rep_id = ", b));
  db_.Execute(
      absl::StrCat("UPDATE handoffs SET first_response_at = NOW(6) WHERE handoff_id = '", id, "'"));
  TimeRunsOut();
  EXPECT_EQ(inbox_.EscalateOverdue(absl::Now(), 100).value(), 0);  // answered: stays
  EXPECT_EQ(Get(id).assigned_rep_id(), a);
}

TEST_F(RoutingStoreTest, ADeletedRuleNoLongerEscalatesAndEditsAreChecked) {
  const int64_t a = Rep("a", v1::REP_ROLE_REP);
  const int64_t b = Rep("b", v1::REP_ROLE_REP);
  v1::RoutingRule rule = Rule({a, b}, v1::ESCALATION_MODE_NEXT_IN_POOL, 1);
  const std::string id = Submit(1);
  ASSERT_EQ(Get(id).assigned_rep_id(), a);

  // A stale etag, and an edit that would leave an invalid rule, change nothing.
  v1::RoutingRule edit = rule;
  edit.set_etag("0");
  edit.set_name("renamed");
  EXPECT_TRUE(absl::IsAborted(routing_.Update(edit, {"name"}, "").status()));
  edit.set_etag(rule.etag());
  edit.set_max_escalations(99);
  absl::StatusOr<v1::RoutingRule> bad = routing_.Update(edit, {"max_escalations"}, "");
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status())) << bad.status();
  EXPECT_THAT(bad.status().message(), HasSubstr("rule.max_escalations"));
  absl::StatusOr<v1::RoutingRule> renamed = routing_.Update(edit, {"name"}, "");
  ASSERT_TRUE(renamed.ok()) << renamed.status();
  EXPECT_EQ(renamed->name(), "renamed");
  EXPECT_EQ(renamed->max_escalations(), 1);

  EXPECT_TRUE(routing_.Delete(rule.rule_id(), rule.etag()).code() == absl::StatusCode::kAborted);
  ASSERT_TRUE(routing_.Delete(rule.rule_id(), renamed->etag()).ok());
  EXPECT_EQ(Due(id), 0);
  TimeRunsOut();
  EXPECT_EQ(inbox_.EscalateOverdue(absl::Now(), 100).value(), 0);
  EXPECT_EQ(Get(id).assigned_rep_id(), a);
  // And new handoffs wait in the default queue.
  EXPECT_EQ(Get(Submit(2)).assignment_reason(), v1::ASSIGNMENT_REASON_DEFAULT_QUEUE);
}

}  // namespace
}  // namespace funnel::sales
