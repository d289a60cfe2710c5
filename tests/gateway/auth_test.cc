#include "gateway/auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/testing/status_matchers.h"
#include "gateway/funnel_service.h"
#include "tests/testing/harness.h"

namespace funnel::gateway {
namespace {

using ::funnel::testing::IsOk;
using ::funnel::testing::StatusIs;
using ::testing::HasSubstr;

// A line that could never authenticate anyone (a hash that is not hex) or would
// forward a negative rep id is refused with its line number, not loaded.
TEST(KeysTest, AKeysLineWithANonHexHashOrANegativeRepIdIsRefused) {
  const std::string hash = Sha256Hex("k");
  ASSERT_THAT(ParseKeys(hash + " ok SALES_REP 3\n"), IsOk());
  EXPECT_THAT(ParseKeys(hash + " ok SALES_REP 3\n" + hash + " neg SALES_REP -2\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("keys file line 2")));
  EXPECT_THAT(ParseKeys(std::string(64, 'z') + " nothex ADMIN\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("keys file line 1")));
}

// A limit line's numbers are finite, bounded and (in_flight) whole: in_flight=1e47
// was converted to an int, undefined behaviour (found by gateway_config_fuzzer).
TEST(PolicyTest, LimitNumbersOutOfRangeAreRefusedNamingTheField) {
  ASSERT_THAT(Policy::Parse("limit * rate=100 burst=200 in_flight=16\n"), IsOk());
  for (const char* bad :
       {"in_flight=1e47", "in_flight=2.5", "rate=inf", "rate=nan", "burst=1e300", "rate=-1"}) {
    EXPECT_THAT(Policy::Parse(absl::StrCat("limit * ", bad, "\n")),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("policy line 1: limit ")))
        << bad;
  }
}

TEST(KeysTest, OnlyTheHashIsStoredAndTheKeyAuthenticates) {
  funnel::testing::TempDir dir;
  const std::string file = dir.path() + "/keys.txt";
  auto key = AddKey(file, "maria", "SALES_REP", 12);
  ASSERT_THAT(key, IsOk());
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, ::testing::Not(HasSubstr(*key)));
  EXPECT_THAT(text, HasSubstr(Sha256Hex(*key)));
  KeyStore store(file);
  ASSERT_THAT(store.Reload(), IsOk());
  auto p = store.Authenticate("Bearer " + *key);
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->id, "maria");
  EXPECT_EQ(p->role, "SALES_REP");
  EXPECT_EQ(p->rep_id, 12);
  EXPECT_THAT(store.Authenticate(""), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(store.Authenticate(*key), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(store.Authenticate("Bearer fk_wrong"), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(AddKey(file, "x", "KING", 0), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(KeysTest, ABadFileKeepsTheKeysInForce) {
  funnel::testing::TempDir dir;
  const std::string file = dir.path() + "/keys.txt";
  auto key = AddKey(file, "ops", "REVENUE_OPS", 0);
  KeyStore store(file);
  ASSERT_THAT(store.Reload(), IsOk());
  std::ofstream(file, std::ios::app) << "not a valid line\n";
  EXPECT_THAT(store.Reload(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 2")));
  EXPECT_THAT(store.Authenticate("Bearer " + *key), IsOk());
}

TEST(PolicyTest, ListedRolesOnlyAndTheDenialNamesMethodAndRole) {
  auto policy = Policy::Parse("# comment\nfunnel.x.v1.S/Do MARKETING,ADMIN\n");
  ASSERT_THAT(policy, IsOk());
  EXPECT_THAT(policy->Check("/funnel.x.v1.S/Do", "ADMIN"), IsOk());
  EXPECT_THAT(policy->Check("/funnel.x.v1.S/Do", "SALES_REP"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("role SALES_REP may not call funnel.x.v1.S/Do")));
  EXPECT_THAT(policy->Check("/funnel.x.v1.S/Other", "ADMIN"),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(Policy::Parse("funnel.x.v1.S/Do WIZARD\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown role WIZARD")));
}

TEST(PolicyTest, TheShippedPolicySeparatesTheDepartments) {
  auto policy = Policy::Parse(DefaultPolicyText());
  ASSERT_THAT(policy, IsOk());
  EXPECT_THAT(policy->Check("/funnel.marketing.v1.MarketingService/CaptureLead", "MARKETING"),
              IsOk());
  EXPECT_FALSE(
      policy->Check("/funnel.sales.v1.SalesService/MoveOpportunityStage", "MARKETING").ok());
  EXPECT_FALSE(
      policy->Check("/funnel.marketing.v1.MarketingService/UpdateScoringPolicy", "SALES_REP").ok());
  EXPECT_FALSE(
      policy->Check("/funnel.marketing.v1.MarketingService/GetCampaign", "SALES_MANAGER").ok());
  EXPECT_THAT(policy->Check("/funnel.sales.v1.SalesService/GetPipelineReport", "REVENUE_OPS"),
              IsOk());
  EXPECT_FALSE(policy->Check("/funnel.sales.v1.SalesService/CloseOpportunity", "REVENUE_OPS").ok());
  EXPECT_THAT(
      policy->Check("/funnel.handoff.v1.HandoffInboxService/SubmitLead", "SERVICE_MARKETING"),
      IsOk());
  EXPECT_FALSE(policy->Check("/funnel.handoff.v1.HandoffInboxService/SubmitLead", "ADMIN").ok());
  EXPECT_THAT(
      policy->Check("/funnel.handoff.v1.HandoffFeedbackService/ReportOutcome", "SERVICE_SALES"),
      IsOk());
  EXPECT_THAT(policy->Check("/funnel.gateway.v1.FunnelService/GetLeadJourney", "SALES_REP"),
              IsOk());
}

TEST(PolicyTest, LimitLinesSetEachRolesLimitsWithADefault) {
  auto policy = Policy::Parse(
      "funnel.x.v1.S/Do ADMIN\nlimit * rate=100 in_flight=10\nlimit ADMIN rate=5 burst=2\n");
  ASSERT_THAT(policy, IsOk());
  EXPECT_EQ(policy->LimitFor("ADMIN").rate, 5);
  EXPECT_EQ(policy->LimitFor("ADMIN").burst, 2);
  EXPECT_EQ(policy->LimitFor("ADMIN").max_in_flight, 0);
  EXPECT_EQ(policy->LimitFor("MARKETING").rate, 100);
  EXPECT_EQ(policy->LimitFor("MARKETING").burst, 100);  // burst defaults to the rate
  EXPECT_EQ(policy->LimitFor("MARKETING").max_in_flight, 10);
  EXPECT_EQ(Policy::Parse("x.v1.S/Do ADMIN\n")->LimitFor("ADMIN").rate, 0);
  EXPECT_THAT(Policy::Parse("limit WIZARD rate=1\n"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Policy::Parse("limit ADMIN speed=1\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown field speed")));
  EXPECT_THAT(Policy::Parse("limit ADMIN rate=-3\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 1")));
  // The shipped policy is generous but not unlimited.
  auto shipped = Policy::Parse(DefaultPolicyText());
  ASSERT_THAT(shipped, IsOk());
  EXPECT_GT(shipped->LimitFor("SALES_REP").rate, 1000);
  EXPECT_GT(shipped->LimitFor("SALES_REP").max_in_flight, 100);
}

TEST(TokenBucketTest, BurstThenTheRateWithTheWaitToTheNextToken) {
  TokenBucket bucket;
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  absl::Duration wait;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.Take(10, 3, t0, &wait));
  EXPECT_FALSE(bucket.Take(10, 3, t0, &wait));
  EXPECT_EQ(wait, absl::Milliseconds(100));
  EXPECT_FALSE(bucket.Take(10, 3, t0 + absl::Milliseconds(60), &wait));
  EXPECT_EQ(absl::ToInt64Milliseconds(absl::Ceil(wait, absl::Milliseconds(1))), 40);
  EXPECT_TRUE(bucket.Take(10, 3, t0 + absl::Milliseconds(100), &wait));
  // A long quiet spell refills to the burst, no further.
  const absl::Time later = t0 + absl::Hours(1);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.Take(10, 3, later, &wait));
  EXPECT_FALSE(bucket.Take(10, 3, later, &wait));
}

TEST(CallerLimiterTest, InFlightPermitsAreGivenBackAndCallersAreApart) {
  CallerLimiter limiter;
  const CallerLimit two{0, 0, 2};
  const absl::Time now = absl::Now();
  auto a = limiter.Acquire("ann", two, now);
  auto b = limiter.Acquire("ann", two, now);
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  auto c = limiter.Acquire("ann", two, now);
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("ann")));
  EXPECT_GT(common::RetryAfterMs(c.status()), 0);
  EXPECT_THAT(limiter.Acquire("bob", two, now), IsOk());
  { CallPermit done = *std::move(a); }
  EXPECT_THAT(limiter.Acquire("ann", two, now), IsOk());
}

TEST(FunnelReportTest, ComposesBothSidesWithConversionsOfDistinctLeads) {
  marketing::v1::FunnelStats m;
  m.set_leads_captured(200);
  m.set_captured_then_qualified(50);
  m.set_mqls(60);  // ten were captured before the range
  m.set_qualified_then_handed_off(45);
  m.set_handed_off(48);  // handoffs
  m.set_handed_off_leads(40);
  m.set_rehandoffs(8);
  m.set_accepted_leads(30);
  m.set_handed_off_then_accepted(30);
  m.set_median_capture_to_mql_seconds(3600);
  sales::v1::FunnelStats s;
  s.set_opportunities(60);
  s.set_won(20);  // five were opened before the range
  s.set_opened_then_won(15);
  s.add_won_revenue()->set_amount_minor(999);
  v1::FunnelReport r = ComposeFunnelReport(m, s);
  EXPECT_EQ(r.leads_captured(), 200);
  EXPECT_EQ(r.handed_off(), 40);
  EXPECT_EQ(r.rehandoffs(), 8);
  EXPECT_EQ(r.accepted(), 30);
  EXPECT_EQ(r.won(), 20);
  ASSERT_EQ(r.conversions_size(), 4);
  EXPECT_EQ(r.conversions(0).from_step(), "captured");
  EXPECT_DOUBLE_EQ(r.conversions(0).rate(), 0.25);
  EXPECT_EQ(r.conversions(0).converted(), 50);
  EXPECT_DOUBLE_EQ(r.conversions(0).median_seconds(), 3600);
  EXPECT_DOUBLE_EQ(r.conversions(1).rate(), 0.75);
  EXPECT_DOUBLE_EQ(r.conversions(2).rate(), 0.75);
  EXPECT_DOUBLE_EQ(r.conversions(3).rate(), 0.25);
  EXPECT_DOUBLE_EQ(ComposeFunnelReport({}, {}).conversions(0).rate(), 0);
}

}  // namespace
}  // namespace funnel::gateway
