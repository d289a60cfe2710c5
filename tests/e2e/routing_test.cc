// Handoff routing through the gateway, with the real services: rules route by what
// a handoff carries and in their order, the round-robin stays fair when a thousand
// handoffs arrive at once at two sales replicas (capacity and availability
// respected), an unanswered handoff escalates as its rule says and the journey
// and the rep's figures show every move.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/ids.h"
#include "funnel/gateway/v1/funnel_service.grpc.pb.h"
#include "funnel/handoff/v1/handoff.grpc.pb.h"
#include "funnel/marketing/v1/marketing_service.grpc.pb.h"
#include "funnel/sales/v1/sales_service.grpc.pb.h"
#include "tests/e2e/e2e_calls.h"
#include "tests/testing/stack.h"

namespace funnel {
namespace {

using ::funnel::testing::FunnelStack;
using sales::v1::Handoff;
using sales::v1::Rep;
using sales::v1::RoutingRule;
using ::testing::HasSubstr;

class RoutingTest : public ::testing::Test {
 protected:
  RoutingTest() : stack_("routing", testing::StackOptions{.sales_replicas = 2}) {
    marketing_ =
        marketing::v1::MarketingService::NewStub(stack_.GatewayChannel(stack_.Key("MARKETING")));
    sales_ = sales::v1::SalesService::NewStub(stack_.GatewayChannel());
    manager_ = sales::v1::SalesService::NewStub(stack_.GatewayChannel(stack_.Key("SALES_MANAGER")));
    inbox_ = handoff::v1::HandoffInboxService::NewStub(
        stack_.GatewayChannel(stack_.Key("SERVICE_MARKETING")));
  }

  void SetUp() override {
    for (const char* s : {"funnel.marketing.v1.MarketingService", "funnel.sales.v1.SalesService"}) {
      ASSERT_TRUE(
          testing::WaitForHealth(stack_.gateway_port(), s, testing::HealthCheckResponse::SERVING));
    }
  }

  int64_t NewRep(const std::string& name, sales::v1::RepRole role = sales::v1::REP_ROLE_REP,
                 int64_t manager = 0) {
    grpc::ClientContext ctx;
    sales::v1::CreateRepRequest r;
    r.mutable_rep()->set_name(name);
    r.mutable_rep()->set_email(absl::StrCat(name, "@corp.example"));
    r.mutable_rep()->set_role(role);
    r.mutable_rep()->set_manager_rep_id(manager);
    Rep out;
    grpc::Status s = sales_->CreateRep(&ctx, r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.rep_id();
  }

  RoutingRule NewRule(const RoutingRule& rule) {
    grpc::ClientContext ctx;
    sales::v1::CreateRoutingRuleRequest r;
    *r.mutable_rule() = rule;
    RoutingRule out;
    grpc::Status s = manager_->CreateRoutingRule(&ctx, r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  // Captures and qualifies a lead in marketing; its id.
  int64_t HandOver(const std::string& email, const std::string& region,
                   const std::string& industry) {
    grpc::ClientContext ctx;
    marketing::v1::CaptureLeadRequest r;
    r.mutable_contact()->set_email(email);
    r.mutable_contact()->set_company(absl::StrCat("Co of ", email));
    r.mutable_contact()->set_region(region);
    r.mutable_contact()->set_industry(industry);
    marketing::v1::CaptureLeadResponse captured;
    grpc::Status s = marketing_->CaptureLead(&ctx, r, &captured);
    EXPECT_TRUE(s.ok()) << s.error_message();
    grpc::ClientContext qctx;
    marketing::v1::QualifyLeadRequest q;
    q.set_lead_id(captured.lead().lead_id());
    q.set_note("asked for a demo");
    marketing::v1::Lead out;
    s = marketing_->QualifyLead(&qctx, q, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return captured.lead().lead_id();
  }

  // The lead's handoff once sales has it (the relay delivers it).
  Handoff HandoffOf(int64_t lead_id) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      grpc::ClientContext ctx;
      sales::v1::ListHandoffsRequest r;
      r.set_lead_id(lead_id);
      sales::v1::ListHandoffsResponse out;
      if (sales_->ListHandoffs(&ctx, r, &out).ok() && out.handoffs_size() > 0) {
        return out.handoffs(0);
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    ADD_FAILURE() << "no handoff for lead " << lead_id;
    return Handoff();
  }

  Handoff Get(const std::string& handoff_id) {
    grpc::ClientContext ctx;
    sales::v1::GetHandoffRequest r;
    r.set_handoff_id(handoff_id);
    Handoff out;
    grpc::Status s = sales_->GetHandoff(&ctx, r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  // Pending handoffs per rep, as ListHandoffs pages them.
  std::map<int64_t, int> PendingPerRep() {
    std::map<int64_t, int> per_rep;
    std::string token;
    do {
      grpc::ClientContext ctx;
      sales::v1::ListHandoffsRequest r;
      r.set_page_size(1000);
      r.set_page_token(token);
      r.set_state(sales::v1::HANDOFF_STATE_PENDING);
      sales::v1::ListHandoffsResponse out;
      grpc::Status s = sales_->ListHandoffs(&ctx, r, &out);
      EXPECT_TRUE(s.ok()) << s.error_message();
      for (const Handoff& h : out.handoffs()) ++per_rep[h.assigned_rep_id()];
      token = out.next_page_token();
    } while (!token.empty());
    return per_rep;
  }

  FunnelStack stack_;
  std::unique_ptr<marketing::v1::MarketingService::Stub> marketing_;
  std::unique_ptr<sales::v1::SalesService::Stub> sales_;  // ADMIN
  std::unique_ptr<sales::v1::SalesService::Stub> manager_;
  std::unique_ptr<handoff::v1::HandoffInboxService::Stub> inbox_;
};

TEST_F(RoutingTest, RulesRouteByWhatTheHandoffCarriesInTheirOrder) {
  const int64_t boss_a = NewRep("anna", sales::v1::REP_ROLE_MANAGER);
  const int64_t a1 = NewRep("abe", sales::v1::REP_ROLE_REP, boss_a);
  const int64_t a2 = NewRep("amy", sales::v1::REP_ROLE_REP, boss_a);
  const int64_t b1 = NewRep("bob");
  RoutingRule emea;
  emea.set_name("EMEA software");
  emea.mutable_match()->add_regions("emea");
  emea.mutable_match()->add_industries("Software");
  emea.set_team_manager_rep_id(boss_a);
  emea = NewRule(emea);
  ASSERT_NE(emea.rule_id(), 0);
  EXPECT_EQ(emea.position(), 1);

  const Handoff to_team = HandoffOf(HandOver("eva@emea.example", "EMEA", "software"));
  EXPECT_THAT(to_team.assigned_rep_id(), ::testing::AnyOf(a1, a2));
  EXPECT_EQ(to_team.assignment_reason(), sales::v1::ASSIGNMENT_REASON_ROUTING_RULE);
  EXPECT_EQ(to_team.routing_rule_id(), emea.rule_id());
  ASSERT_EQ(to_team.assignments_size(), 1);
  EXPECT_EQ(to_team.assignments(0).actor(), "routing");
  EXPECT_THAT(to_team.assignments(0).note(), HasSubstr("EMEA software"));

  const Handoff queued = HandoffOf(HandOver("al@amer.example", "AMER", "software"));
  EXPECT_EQ(queued.assigned_rep_id(), 0);
  EXPECT_EQ(queued.assignment_reason(), sales::v1::ASSIGNMENT_REASON_DEFAULT_QUEUE);
  EXPECT_EQ(queued.routing_rule_id(), 0);
  ASSERT_EQ(queued.assignments_size(), 1);
  EXPECT_THAT(queued.assignments(0).note(), HasSubstr("no routing rule matched"));

  // A catch-all put first takes everything, EMEA software included.
  RoutingRule all;
  all.set_name("everyone to bob");
  all.add_pool()->set_rep_id(b1);
  all = NewRule(all);
  EXPECT_EQ(all.position(), 2);
  {
    grpc::ClientContext ctx;
    sales::v1::ReorderRoutingRulesRequest r;
    r.add_rule_ids(all.rule_id());
    r.add_rule_ids(emea.rule_id());
    sales::v1::ListRoutingRulesResponse out;
    ASSERT_GRPC_OK(manager_->ReorderRoutingRules(&ctx, r, &out));
    ASSERT_EQ(out.rules_size(), 2);
    EXPECT_EQ(out.rules(0).rule_id(), all.rule_id());
    EXPECT_EQ(out.rules(0).position(), 1);
  }
  EXPECT_EQ(HandoffOf(HandOver("eve@emea.example", "EMEA", "Software")).assigned_rep_id(), b1);

  // Manual assignment wins over the rules.
  {
    grpc::ClientContext ctx;
    sales::v1::AssignHandoffRequest r;
    r.set_handoff_id(queued.handoff_id());
    r.set_rep_id(a2);
    Handoff out;
    ASSERT_GRPC_OK(sales_->AssignHandoff(&ctx, r, &out));
    EXPECT_EQ(out.assignment_reason(), sales::v1::ASSIGNMENT_REASON_MANUAL);
    ASSERT_EQ(out.assignments_size(), 2);
    EXPECT_EQ(out.assignments(1).previous_rep_id(), 0);
    EXPECT_EQ(out.assignments(1).rep_id(), a2);
  }

  // Bad rules and bad orders change nothing.
  {
    grpc::ClientContext ctx;
    sales::v1::CreateRoutingRuleRequest r;
    r.mutable_rule()->set_name("ghost pool");
    r.mutable_rule()->add_pool()->set_rep_id(987654);
    RoutingRule out;
    const grpc::Status s = manager_->CreateRoutingRule(&ctx, r, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_THAT(s.error_message(), HasSubstr("rule.pool[0].rep_id"));
  }
  {
    grpc::ClientContext ctx;
    sales::v1::ReorderRoutingRulesRequest r;
    r.add_rule_ids(emea.rule_id());
    sales::v1::ListRoutingRulesResponse out;
    const grpc::Status s = manager_->ReorderRoutingRules(&ctx, r, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("rule_ids"));
  }
  {
    // A rep reads the rules but may not change them.
    auto rep = sales::v1::SalesService::NewStub(
        stack_.GatewayChannel(stack_.AddKey("SALES_REP", "abe", a1)));
    grpc::ClientContext ctx;
    sales::v1::ListRoutingRulesResponse out;
    ASSERT_GRPC_OK(rep->ListRoutingRules(&ctx, sales::v1::ListRoutingRulesRequest(), &out));
    EXPECT_EQ(out.rules_size(), 2);
    grpc::ClientContext dctx;
    sales::v1::DeleteRoutingRuleRequest d;
    d.set_rule_id(all.rule_id());
    sales::v1::DeleteRoutingRuleResponse deleted;
    EXPECT_EQ(rep->DeleteRoutingRule(&dctx, d, &deleted).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext ctx;
    sales::v1::DeleteRoutingRuleRequest d;
    d.set_rule_id(all.rule_id());
    sales::v1::DeleteRoutingRuleResponse deleted;
    ASSERT_GRPC_OK(manager_->DeleteRoutingRule(&ctx, d, &deleted));
  }
  EXPECT_THAT(HandoffOf(HandOver("ed@emea.example", "EMEA", "software")).assigned_rep_id(),
              ::testing::AnyOf(a1, a2));
}

// 1,020 handoffs at once, as a relay's many concurrent deliveries arrive at two
// sales replicas: five equal reps get 200 each (within one), a rep with capacity
// 20 gets exactly 20, and an away rep nothing.
TEST_F(RoutingTest, RoundRobinStaysFairUnderConcurrency) {
  std::vector<int64_t> equal;
  for (int i = 0; i < 5; ++i) equal.push_back(NewRep(absl::StrCat("eq", i)));
  const int64_t away = NewRep("away");
  const int64_t capped = NewRep("capped");
  {
    grpc::ClientContext ctx;
    sales::v1::UpdateRepRequest r;
    r.mutable_rep()->set_rep_id(away);
    r.mutable_rep()->set_away(true);
    r.mutable_update_mask()->add_paths("away");
    Rep out;
    // A rep marks themselves away.
    auto self = sales::v1::SalesService::NewStub(
        stack_.GatewayChannel(stack_.AddKey("SALES_REP", "away", away)));
    ASSERT_GRPC_OK(self->UpdateRep(&ctx, r, &out));
    EXPECT_TRUE(out.away());
    // ... but not someone else, nor their own capacity.
    grpc::ClientContext other;
    r.mutable_rep()->set_rep_id(capped);
    EXPECT_EQ(self->UpdateRep(&other, r, &out).error_code(), grpc::StatusCode::PERMISSION_DENIED);
    grpc::ClientContext capacity;
    r.mutable_rep()->set_rep_id(away);
    r.mutable_rep()->set_handoff_capacity(1000);
    r.mutable_update_mask()->add_paths("handoff_capacity");
    EXPECT_EQ(self->UpdateRep(&capacity, r, &out).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext ctx;
    sales::v1::UpdateRepRequest r;
    r.mutable_rep()->set_rep_id(capped);
    r.mutable_rep()->set_handoff_capacity(20);
    r.mutable_update_mask()->add_paths("handoff_capacity");
    Rep out;
    ASSERT_GRPC_OK(sales_->UpdateRep(&ctx, r, &out));
    EXPECT_EQ(out.handoff_capacity(), 20);
  }
  RoutingRule rule;
  rule.set_name("everyone");
  for (int64_t rep : equal) rule.add_pool()->set_rep_id(rep);
  rule.add_pool()->set_rep_id(away);
  rule.add_pool()->set_rep_id(capped);
  rule = NewRule(rule);

  constexpr int kHandoffs = 1020;
  constexpr int kThreads = 34;
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kHandoffs; i += kThreads) {
        handoff::v1::LeadHandoff lead;
        lead.set_handoff_id(common::NewUuid());
        lead.set_lead_id(100000 + i);
        lead.mutable_contact()->set_email(absl::StrCat("p", i, "@many.example"));
        lead.set_consent(handoff::v1::CONSENT_STATUS_OPTED_IN);
        grpc::ClientContext ctx;
        handoff::v1::SubmitLeadResponse receipt;
        if (!inbox_->SubmitLead(&ctx, lead, &receipt).ok()) ++failed;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(failed.load(), 0);

  std::map<int64_t, int> per_rep = PendingPerRep();
  EXPECT_EQ(per_rep[capped], 20);
  EXPECT_EQ(per_rep[away], 0);
  EXPECT_EQ(per_rep[0], 0);  // nobody waited in the default queue
  for (int64_t rep : equal) EXPECT_NEAR(per_rep[rep], 200, 1) << "rep " << rep;
}

// A handoff nobody answers escalates to the next rep of its pool, once (the rule
// allows one); the move is on the handoff, in the journey and in the new rep's
// figures.
TEST_F(RoutingTest, AnOverdueHandoffEscalatesOnceAndTheJourneyShowsIt) {
  const int64_t first = NewRep("first");
  const int64_t second = NewRep("second");
  RoutingRule rule;
  rule.set_name("two of us");
  rule.add_pool()->set_rep_id(first);
  rule.add_pool()->set_rep_id(second);
  rule.set_escalation(sales::v1::ESCALATION_MODE_NEXT_IN_POOL);
  rule.set_max_escalations(1);
  rule = NewRule(rule);
  const int64_t lead_id = HandOver("slow@late.example", "EMEA", "software");
  const Handoff h = HandoffOf(lead_id);
  ASSERT_EQ(h.assigned_rep_id(), first);

  // Its time runs out (the SLA is hours; the test moves the clock's marks).
  stack_.sales_db().Execute(
      "UPDATE handoffs SET sla_deadline = NOW(6) - INTERVAL 1 MINUTE, "
      "escalate_at = NOW(6) - INTERVAL 1 MINUTE");
  Handoff moved;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  do {
    absl::SleepFor(absl::Milliseconds(100));
    moved = Get(h.handoff_id());
  } while (moved.escalation_count() == 0 && absl::Now() < deadline);
  EXPECT_EQ(moved.escalation_count(), 1);
  EXPECT_EQ(moved.assigned_rep_id(), second);
  EXPECT_EQ(moved.assignment_reason(), sales::v1::ASSIGNMENT_REASON_ESCALATION);
  ASSERT_EQ(moved.assignments_size(), 2);
  EXPECT_EQ(moved.assignments(1).previous_rep_id(), first);
  EXPECT_EQ(moved.assignments(1).actor(), "escalation");
  EXPECT_TRUE(moved.overdue());
  // At most once: nothing is due any more, however late it gets.
  EXPECT_EQ(stack_.sales_db().QueryInt(absl::StrCat(
                "SELECT COUNT(*) FROM handoffs WHERE escalate_at IS NOT NULL AND handoff_id = '",
                h.handoff_id(), "'")),
            0);

  {
    auto ops =
        gateway::v1::FunnelService::NewStub(stack_.GatewayChannel(stack_.Key("REVENUE_OPS")));
    grpc::ClientContext ctx;
    gateway::v1::GetLeadJourneyRequest r;
    r.set_lead_id(lead_id);
    gateway::v1::LeadJourney journey;
    ASSERT_GRPC_OK(ops->GetLeadJourney(&ctx, r, &journey));
    std::vector<std::string> sales_steps;
    for (const auto& e : journey.events()) {
      if (e.source() == gateway::v1::JOURNEY_SOURCE_SALES) {
        sales_steps.push_back(absl::StrCat(e.kind(), " ", e.summary()));
      }
    }
    EXPECT_THAT(sales_steps,
                ::testing::ElementsAre(HasSubstr(absl::StrCat("assigned rep ", first)),
                                       HasSubstr(absl::StrCat("escalated rep ", second))));
  }

  // The second rep answers; their figures count the handoff and the wait.
  {
    auto rep = sales::v1::SalesService::NewStub(
        stack_.GatewayChannel(stack_.AddKey("SALES_REP", "second", second)));
    grpc::ClientContext ctx;
    sales::v1::LogActivityRequest r;
    r.mutable_activity()->set_type(sales::v1::ACTIVITY_TYPE_CALL);
    r.mutable_activity()->set_handoff_id(h.handoff_id());
    r.mutable_activity()->set_outcome("left a voicemail");
    sales::v1::Activity out;
    ASSERT_GRPC_OK(rep->LogActivity(&ctx, r, &out));
    const absl::CivilSecond now = absl::ToCivilSecond(absl::Now(), absl::UTCTimeZone());
    grpc::ClientContext pctx;
    sales::v1::GetRepPerformanceRequest p;
    p.set_rep_id(second);
    p.set_quarter(absl::StrCat(now.year(), "-Q", (now.month() - 1) / 3 + 1));
    sales::v1::RepPerformance perf;
    ASSERT_GRPC_OK(rep->GetRepPerformance(&pctx, p, &perf));
    EXPECT_EQ(perf.handoffs_received(), 1);
    EXPECT_EQ(perf.handoffs_answered(), 1);
    EXPECT_LT(perf.median_first_response_seconds(), 60);
  }
}

}  // namespace
}  // namespace funnel
