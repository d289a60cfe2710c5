// MarketingService through a real gRPC server on a free port: bad input for every
// method gets a clear error naming the field and changes nothing.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/generic_call.h"
#include "common/time_util.h"
#include "tests/marketing/marketing_fixture.h"

namespace funnel::marketing {
namespace {

using ::testing::HasSubstr;
using MarketingServiceTest = MarketingFixture;

struct BadCase {
  const char* name;
  std::function<grpc::Status(v1::MarketingService::Stub&)> call;
  grpc::StatusCode code;
  const char* message;
};

template <typename Req, typename Resp>
std::function<grpc::Status(v1::MarketingService::Stub&)> Unary(
    grpc::Status (v1::MarketingService::Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
    Req request) {
  return [method, request](v1::MarketingService::Stub& stub) {
    grpc::ClientContext ctx;
    Resp response;
    return (stub.*method)(&ctx, request, &response);
  };
}

TEST_F(MarketingServiceTest, BadInputForEveryMethodNamesTheFieldAndChangesNothing) {
  using S = v1::MarketingService::Stub;
  using grpc::StatusCode;
  v1::CaptureLeadRequest bad_email;
  bad_email.mutable_contact()->set_email("not-an-address");
  v1::CaptureLeadRequest bad_campaign;
  bad_campaign.mutable_contact()->set_email("ok@example.com");
  bad_campaign.set_campaign_id(999);
  bad_campaign.set_touchpoint_type(handoff::v1::TOUCHPOINT_TYPE_AD_CLICK);
  v1::CreateCampaignRequest no_channel;
  no_channel.mutable_campaign()->set_name("x");
  v1::CreateCampaignRequest bad_currency;
  bad_currency.mutable_campaign()->set_name("x");
  bad_currency.mutable_campaign()->set_channel(v1::CHANNEL_EMAIL);
  bad_currency.mutable_campaign()->mutable_budget()->set_currency_code("usd");
  bad_currency.mutable_campaign()->mutable_budget()->set_amount_minor(5);
  v1::UpdateCampaignRequest no_mask;
  no_mask.mutable_campaign()->set_campaign_id(1);
  v1::UpdateCampaignRequest unknown_campaign;
  unknown_campaign.mutable_campaign()->set_campaign_id(777);
  unknown_campaign.mutable_update_mask()->add_paths("name");
  unknown_campaign.mutable_campaign()->set_name("n");
  v1::UpdateLeadRequest email_change;
  email_change.mutable_lead()->set_lead_id(1);
  email_change.mutable_update_mask()->add_paths("contact.email");
  v1::QualifyLeadRequest no_note;
  no_note.set_lead_id(1);
  v1::QualifyLeadRequest unknown_lead;
  unknown_lead.set_lead_id(404);
  unknown_lead.set_note("n");
  v1::MergeLeadsRequest merge_none;
  merge_none.set_survivor_lead_id(3);
  v1::MergeLeadsRequest merge_itself = merge_none;
  merge_itself.add_duplicate_lead_ids(3);
  v1::MergeLeadsRequest merge_twice = merge_none;
  merge_twice.add_duplicate_lead_ids(4);
  merge_twice.add_duplicate_lead_ids(4);
  v1::MergeLeadsRequest merge_unknown;
  merge_unknown.set_survivor_lead_id(404);
  merge_unknown.add_duplicate_lead_ids(405);
  v1::UnsubscribeRequest unsub_unknown;
  unsub_unknown.set_email("nobody@example.com");
  v1::RecordTouchpointRequest no_type;
  no_type.set_lead_id(1);
  // 1960: answered OK with 1960 while the column stored the current time.
  v1::RecordTouchpointRequest long_ago;
  long_ago.set_lead_id(1);
  long_ago.set_type(handoff::v1::TOUCHPOINT_TYPE_AD_IMPRESSION);
  long_ago.mutable_occur_time()->set_seconds(-315619200);
  v1::ListLeadsRequest negative_page;
  negative_page.set_page_size(-1);
  v1::ListLeadsRequest bad_token;
  bad_token.set_page_token("garbage!");
  v1::UpdateScoringPolicyRequest bad_policy;
  bad_policy.mutable_update_mask()->add_paths("hot_threshold");
  bad_policy.mutable_policy()->set_hot_threshold(1);
  v1::UpdateScoringPolicyRequest bad_policy_path;
  bad_policy_path.mutable_update_mask()->add_paths("etag");
  v1::CreateSegmentRequest no_name;
  v1::CreateSegmentRequest bad_sizes;
  bad_sizes.mutable_segment()->set_name("s");
  bad_sizes.mutable_segment()->mutable_criteria()->set_min_company_size(100);
  bad_sizes.mutable_segment()->mutable_criteria()->set_max_company_size(10);
  v1::CreateSegmentRequest long_description;
  long_description.mutable_segment()->set_name("long");
  long_description.mutable_segment()->set_description(std::string(3000, 'd'));
  v1::CreateSegmentRequest huge_description = long_description;
  huge_description.mutable_segment()->set_description(std::string(100'000, 'd'));
  v1::CaptureLeadRequest long_request_id;
  long_request_id.mutable_contact()->set_email("ok2@example.com");
  long_request_id.set_request_id(std::string(300, 'r'));

  const std::vector<BadCase> cases = {
      {"CreateSegment", Unary(&S::CreateSegment, no_name), StatusCode::INVALID_ARGUMENT,
       "segment.name"},
      {"CreateSegment sizes", Unary(&S::CreateSegment, bad_sizes), StatusCode::INVALID_ARGUMENT,
       "segment.criteria"},
      {"CreateSegment long description", Unary(&S::CreateSegment, long_description),
       StatusCode::INVALID_ARGUMENT, "segment.description: longer than 2000"},
      {"CreateSegment huge description", Unary(&S::CreateSegment, huge_description),
       StatusCode::INVALID_ARGUMENT, "segment.description: longer than 65536 bytes"},
      {"GetSegment", Unary(&S::GetSegment, v1::GetSegmentRequest()), StatusCode::INVALID_ARGUMENT,
       "segment_id"},
      {"ListSegments",
       Unary(&S::ListSegments,
             [] {
               v1::ListSegmentsRequest r;
               r.set_page_size(-5);
               return r;
             }()),
       StatusCode::INVALID_ARGUMENT, "page_size"},
      {"ListSegmentLeads",
       Unary(&S::ListSegmentLeads,
             [] {
               v1::ListSegmentLeadsRequest r;
               r.set_segment_id(55);
               return r;
             }()),
       StatusCode::NOT_FOUND, "segment 55"},
      {"CreateCampaign", Unary(&S::CreateCampaign, no_channel), StatusCode::INVALID_ARGUMENT,
       "campaign.channel"},
      {"CreateCampaign currency", Unary(&S::CreateCampaign, bad_currency),
       StatusCode::INVALID_ARGUMENT, "campaign.budget.currency_code"},
      {"GetCampaign",
       Unary(&S::GetCampaign,
             [] {
               v1::GetCampaignRequest r;
               r.set_campaign_id(12);
               return r;
             }()),
       StatusCode::NOT_FOUND, "campaign 12"},
      {"ListCampaigns",
       Unary(&S::ListCampaigns,
             [] {
               v1::ListCampaignsRequest r;
               r.set_state(static_cast<v1::CampaignState>(42));
               return r;
             }()),
       StatusCode::INVALID_ARGUMENT, "state"},
      {"UpdateCampaign mask", Unary(&S::UpdateCampaign, no_mask), StatusCode::INVALID_ARGUMENT,
       "update_mask"},
      {"UpdateCampaign unknown", Unary(&S::UpdateCampaign, unknown_campaign), StatusCode::NOT_FOUND,
       "campaign 777"},
      {"CaptureLead email", Unary(&S::CaptureLead, bad_email), StatusCode::INVALID_ARGUMENT,
       "contact.email: not a valid address"},
      {"CaptureLead campaign", Unary(&S::CaptureLead, bad_campaign), StatusCode::NOT_FOUND,
       "campaign_id"},
      {"CaptureLead request_id", Unary(&S::CaptureLead, long_request_id),
       StatusCode::INVALID_ARGUMENT, "request_id"},
      {"GetLead",
       Unary(&S::GetLead,
             [] {
               v1::GetLeadRequest r;
               r.set_lead_id(-3);
               return r;
             }()),
       StatusCode::INVALID_ARGUMENT, "lead_id"},
      {"ListLeads page_size", Unary(&S::ListLeads, negative_page), StatusCode::INVALID_ARGUMENT,
       "page_size"},
      {"ListLeads page_token", Unary(&S::ListLeads, bad_token), StatusCode::INVALID_ARGUMENT,
       "page_token"},
      {"UpdateLead", Unary(&S::UpdateLead, email_change), StatusCode::INVALID_ARGUMENT,
       "contact.email cannot be updated"},
      {"QualifyLead note", Unary(&S::QualifyLead, no_note), StatusCode::INVALID_ARGUMENT, "note"},
      {"QualifyLead unknown", Unary(&S::QualifyLead, unknown_lead), StatusCode::NOT_FOUND,
       "lead 404"},
      {"Unsubscribe bad", Unary(&S::Unsubscribe, v1::UnsubscribeRequest()),
       StatusCode::INVALID_ARGUMENT, "email"},
      {"Unsubscribe unknown", Unary(&S::Unsubscribe, unsub_unknown), StatusCode::NOT_FOUND,
       "email"},
      {"EraseLead", Unary(&S::EraseLead, v1::EraseLeadRequest()), StatusCode::INVALID_ARGUMENT,
       "lead_id"},
      {"MergeLeads none", Unary(&S::MergeLeads, merge_none), StatusCode::INVALID_ARGUMENT,
       "duplicate_lead_ids: 1 to 100 ids"},
      {"MergeLeads itself", Unary(&S::MergeLeads, merge_itself), StatusCode::INVALID_ARGUMENT,
       "duplicate_lead_ids: 3 is the survivor"},
      {"MergeLeads twice", Unary(&S::MergeLeads, merge_twice), StatusCode::INVALID_ARGUMENT,
       "duplicate_lead_ids: 4 listed twice"},
      {"MergeLeads unknown", Unary(&S::MergeLeads, merge_unknown), StatusCode::NOT_FOUND,
       "survivor_lead_id: lead 404 not found"},
      {"ListLeadHistory",
       Unary(&S::ListLeadHistory,
             [] {
               v1::ListLeadHistoryRequest r;
               r.set_lead_id(9);
               return r;
             }()),
       StatusCode::NOT_FOUND, "lead 9"},
      {"RecordTouchpoint", Unary(&S::RecordTouchpoint, no_type), StatusCode::INVALID_ARGUMENT,
       "type"},
      {"RecordTouchpoint 1960", Unary(&S::RecordTouchpoint, long_ago), StatusCode::INVALID_ARGUMENT,
       "occur_time"},
      {"ListTouchpoints", Unary(&S::ListTouchpoints, v1::ListTouchpointsRequest()),
       StatusCode::INVALID_ARGUMENT, "lead_id"},
      {"UpdateScoringPolicy", Unary(&S::UpdateScoringPolicy, bad_policy),
       StatusCode::INVALID_ARGUMENT, "policy.hot_threshold"},
      {"UpdateScoringPolicy path", Unary(&S::UpdateScoringPolicy, bad_policy_path),
       StatusCode::INVALID_ARGUMENT, "update_mask"},
      {"RescoreLeads",
       Unary(&S::RescoreLeads,
             [] {
               v1::RescoreLeadsRequest r;
               r.set_request_id(std::string(201, 'x'));
               return r;
             }()),
       StatusCode::INVALID_ARGUMENT, "request_id"},
      {"GetCampaignMetrics", Unary(&S::GetCampaignMetrics, v1::GetCampaignMetricsRequest()),
       StatusCode::INVALID_ARGUMENT, "campaign_id"},
      {"GetHandoffStatus",
       Unary(&S::GetHandoffStatus,
             [] {
               v1::GetHandoffStatusRequest r;
               r.set_lead_id(31);
               return r;
             }()),
       StatusCode::NOT_FOUND, "lead 31"},
  };
  for (const BadCase& c : cases) {
    grpc::Status status = c.call(*stub_);
    EXPECT_EQ(status.error_code(), c.code) << c.name << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.message)) << c.name;
  }
  // Nothing was written by any of them.
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM leads"), 0);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM campaigns"), 0);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM segments"), 0);
  EXPECT_EQ(db_.QueryInt("SELECT version FROM scoring_policy"), 1);
}

// A campaign may run past 2038 (where TIMESTAMP ends): stored as answered; a date a
// DATETIME cannot hold is refused naming the field (a 2040 end once came back unset).
TEST_F(MarketingServiceTest, CampaignDatesPast2038AreStoredAsAnswered) {
  const absl::Time start =
      absl::FromCivil(absl::CivilSecond(2037, 6, 1, 9, 30, 0), absl::UTCTimeZone());
  const absl::Time end =
      absl::FromCivil(absl::CivilSecond(2040, 12, 31, 23, 59, 59), absl::UTCTimeZone()) +
      absl::Microseconds(250);
  grpc::ClientContext ctx;
  v1::CreateCampaignRequest r;
  r.mutable_campaign()->set_name("Long haul");
  r.mutable_campaign()->set_channel(v1::CHANNEL_EVENT);
  *r.mutable_campaign()->mutable_start_time() = common::ToProtoTime(start);
  *r.mutable_campaign()->mutable_end_time() = common::ToProtoTime(end);
  v1::Campaign created;
  ASSERT_TRUE(stub_->CreateCampaign(&ctx, r, &created).ok());
  EXPECT_EQ(common::FromProtoTime(created.end_time()), end);
  grpc::ClientContext ctx2;
  v1::GetCampaignRequest get;
  get.set_campaign_id(created.campaign_id());
  v1::Campaign read;
  ASSERT_TRUE(stub_->GetCampaign(&ctx2, get, &read).ok());
  EXPECT_EQ(common::FromProtoTime(read.start_time()), start);
  EXPECT_EQ(common::FromProtoTime(read.end_time()), end);

  grpc::ClientContext ctx3;
  r.mutable_campaign()->set_name("Too long");
  *r.mutable_campaign()->mutable_end_time() = common::ToProtoTime(
      absl::FromCivil(absl::CivilSecond(10000, 1, 1, 0, 0, 0), absl::UTCTimeZone()));
  v1::Campaign refused;
  const grpc::Status s = stub_->CreateCampaign(&ctx3, r, &refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("campaign.end_time"));
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM campaigns"), 1);
}

TEST_F(MarketingServiceTest, AnInternationalizedDomainInAnyCaseIsOnePerson) {
  std::set<int64_t> leads;
  for (const char* email :
       {"ada@M\xc3\x9cLLER.de", "ada@m\xc3\xbcller.de", "ADA@xn--mller-kva.de"}) {
    grpc::ClientContext ctx;
    v1::CaptureLeadResponse out;
    const grpc::Status s = stub_->CaptureLead(&ctx, Capture(email), &out);
    ASSERT_TRUE(s.ok()) << email << ": " << s.error_message();
    leads.insert(out.lead().lead_id());
  }
  EXPECT_EQ(leads.size(), 1u);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM leads"), 1);
}

TEST_F(MarketingServiceTest, ImportLeadsReportsBadRowsAndKeepsTheRest) {
  grpc::ClientContext ctx;
  v1::ImportLeadsResponse summary;
  auto writer = stub_->ImportLeads(&ctx, &summary);
  for (const char* email : {"a@example.com", "broken", "B@example.com", "a@EXAMPLE.com", ""}) {
    v1::CaptureLeadRequest row = Capture(email);
    ASSERT_TRUE(writer->Write(row));
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(summary.created(), 2);
  EXPECT_EQ(summary.merged(), 1);
  EXPECT_EQ(summary.rejected(), 2);
  ASSERT_EQ(summary.errors_size(), 2);
  EXPECT_EQ(summary.errors(0).row(), 2);
  EXPECT_THAT(summary.errors(0).reason(), HasSubstr("contact.email"));
  EXPECT_EQ(summary.errors(1).row(), 5);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM leads"), 2);
}

// Rows sharing a request_id are one request: the first is applied, a repeat of the
// same row is answered as the first (replayed), a different row reusing the id is
// refused. (The summary once said created: 2 while one lead was stored.)
TEST_F(MarketingServiceTest, ImportRowsSharingARequestIdAreAppliedOnce) {
  grpc::ClientContext ctx;
  v1::ImportLeadsResponse summary;
  auto writer = stub_->ImportLeads(&ctx, &summary);
  for (const char* company : {"Dup Inc", "Dup Inc", "Other Inc"}) {
    v1::CaptureLeadRequest row = Capture("dup@example.com");
    row.mutable_contact()->set_company(company);
    row.set_request_id("row-1");
    ASSERT_TRUE(writer->Write(row));
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(summary.created(), 1);
  EXPECT_EQ(summary.merged(), 0);
  EXPECT_EQ(summary.replayed(), 1);
  EXPECT_EQ(summary.rejected(), 1);
  ASSERT_EQ(summary.errors_size(), 1);
  EXPECT_EQ(summary.errors(0).row(), 3);
  EXPECT_THAT(summary.errors(0).reason(), HasSubstr("request_id"));
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM leads"), 1);
}

// However many rows are bad, the answer fits a message: the first 1,000 rejected
// rows are listed in row order, the rest counted (with 105,000 bad rows the list
// alone passed gRPC's 4 MB and the caller could not learn what committed).
TEST_F(MarketingServiceTest, ImportLeadsListsTheFirstThousandRejectedRowsAndCountsTheRest) {
  grpc::ClientContext ctx;
  v1::ImportLeadsResponse summary;
  auto writer = stub_->ImportLeads(&ctx, &summary);
  for (int i = 1; i <= 2600; ++i) {
    ASSERT_TRUE(writer->Write(
        Capture(i % 100 == 0 ? absl::StrCat("ok", i, "@example.com") : absl::StrCat("broken", i))));
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(summary.created(), 26);
  EXPECT_EQ(summary.rejected(), 2574);
  ASSERT_EQ(summary.errors_size(), 1000);
  EXPECT_EQ(summary.errors_omitted(), 1574);
  EXPECT_EQ(summary.errors(0).row(), 1);
  for (int i = 1; i < summary.errors_size(); ++i) {
    EXPECT_LT(summary.errors(i - 1).row(), summary.errors(i).row());
  }
  EXPECT_EQ(summary.errors(999).row(), 1010);  // 1,000 bad rows among the first 1,010
}

// A row whose bytes do not decode is a rejected row, named by its position, and the
// rows after it are still imported (it once read as the end of the stream: the
// import answered OK having taken only the rows before it).
TEST_F(MarketingServiceTest, ImportLeadsRejectsAMalformedRowAndImportsTheRest) {
  grpc::GenericStub generic(grpc::CreateChannel(absl::StrCat("127.0.0.1:", host_->port()),
                                                grpc::InsecureChannelCredentials()));
  const std::string invalid_utf8 = [] {
    v1::CaptureLeadRequest row = Capture("third@example.com");
    row.mutable_contact()->set_first_name("NAME");
    std::string bytes = row.SerializeAsString();
    bytes.replace(bytes.find("NAME"), 4, "\xff\xfe\xfd\xfc");
    return bytes;
  }();
  const std::vector<std::string> rows = {
      Capture("first@example.com").SerializeAsString(), std::string("\x0a\xff\xff\xff", 4),
      Capture("second@example.com").SerializeAsString(), invalid_utf8,
      Capture("fourth@example.com").SerializeAsString()};
  grpc::ClientContext ctx;
  std::string reply;
  grpc::Status status = common::BlockingRawClientStream(
      generic, &ctx, "/funnel.marketing.v1.MarketingService/ImportLeads", rows, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::ImportLeadsResponse summary;
  ASSERT_TRUE(summary.ParseFromString(reply));
  EXPECT_EQ(summary.created(), 3);
  EXPECT_EQ(summary.rejected(), 2);
  ASSERT_EQ(summary.errors_size(), 2);
  EXPECT_EQ(summary.errors(0).row(), 2);
  EXPECT_THAT(summary.errors(0).reason(), HasSubstr("malformed"));
  EXPECT_EQ(summary.errors(1).row(), 4);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM leads"), 3);
}

// Rows span three write batches (500 rows each): a row merges into the lead an
// earlier batch created, and errors come back in row order whether found while
// reading (a bad email) or while writing (no campaign).
TEST_F(MarketingServiceTest, ImportLeadsAcrossBatchesMergesInStreamOrder) {
  grpc::ClientContext ctx;
  v1::ImportLeadsResponse summary;
  auto writer = stub_->ImportLeads(&ctx, &summary);
  for (int row = 1; row <= 1203; ++row) {
    std::string email =
        absl::StrCat("lead-", row % 700, row > 700 ? "@EXAMPLE.com" : "@example.com");
    if (row == 450 || row == 1100) email = "broken";
    ASSERT_TRUE(writer->Write(
        Capture(email, row == 3 ? 999999 : 0, handoff::v1::TOUCHPOINT_TYPE_EMAIL_OPEN)));
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(summary.created(), 700);  // every row % 700 has a good row
  EXPECT_EQ(summary.merged(), 500);
  EXPECT_EQ(summary.rejected(), 3);
  ASSERT_EQ(summary.errors_size(), 3);
  EXPECT_EQ(summary.errors(0).row(), 3);
  EXPECT_THAT(summary.errors(0).reason(), HasSubstr("campaign_id"));
  EXPECT_EQ(summary.errors(1).row(), 450);
  EXPECT_EQ(summary.errors(2).row(), 1100);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM leads"), 700);
  // Lead 3 came from row 703 alone (row 3 was refused); lead 4 from rows 4 and 704.
  const std::string touches =
      "SELECT COUNT(*) FROM touchpoints t JOIN leads l ON l.lead_id = t.lead_id "
      "WHERE l.email = ";
  EXPECT_EQ(db_.QueryInt(touches + "'lead-3@example.com'"), 1);
  EXPECT_EQ(db_.QueryInt(touches + "'lead-4@example.com'"), 2);
}

// Bounds beyond what a TIMESTAMP holds (FROM_UNIXTIME gives NULL past 2038 and
// before 1970) still mean "everything up to / since".
TEST_F(MarketingServiceTest, FunnelStatsRangeBeyondStoredTimesCountsEverything) {
  for (const char* email : {"r1@example.com", "r2@example.com"}) {
    grpc::ClientContext ctx;
    v1::CaptureLeadResponse created;
    ASSERT_TRUE(stub_->CaptureLead(&ctx, Capture(email), &created).ok());
  }
  v1::GetFunnelStatsRequest request;
  request.mutable_start_time()->set_seconds(-315619200);  // 1960
  request.mutable_end_time()->set_seconds(4102444800);    // 2100
  for (bool bounded : {true, false}) {
    if (!bounded) request.clear_start_time(), request.clear_end_time();
    grpc::ClientContext ctx;
    v1::FunnelStats stats;
    ASSERT_TRUE(stub_->GetFunnelStats(&ctx, request, &stats).ok());
    EXPECT_EQ(stats.leads_captured(), 2) << bounded;
  }
}

TEST_F(MarketingServiceTest, SegmentLeadsMatchTheCriteriaNow) {
  grpc::ClientContext c1;
  v1::CreateSegmentRequest seg;
  seg.mutable_segment()->set_name("EMEA software");
  seg.mutable_segment()->mutable_criteria()->add_industries("Software");
  seg.mutable_segment()->mutable_criteria()->add_regions("emea");
  v1::Segment segment;
  ASSERT_TRUE(stub_->CreateSegment(&c1, seg, &segment).ok());
  {
    grpc::ClientContext again;
    v1::Segment dup;
    EXPECT_EQ(stub_->CreateSegment(&again, seg, &dup).error_code(),
              grpc::StatusCode::ALREADY_EXISTS);
  }
  for (auto [email, industry, region] :
       std::vector<std::tuple<const char*, const char*, const char*>>{
           {"in@example.com", "software", "EMEA"},
           {"out1@example.com", "retail", "EMEA"},
           {"out2@example.com", "software", "APAC"}}) {
    v1::CaptureLeadRequest r = Capture(email);
    r.mutable_contact()->set_industry(industry);
    r.mutable_contact()->set_region(region);
    grpc::ClientContext ctx;
    v1::CaptureLeadResponse resp;
    ASSERT_TRUE(stub_->CaptureLead(&ctx, r, &resp).ok());
  }
  grpc::ClientContext c2;
  v1::ListSegmentLeadsRequest list;
  list.set_segment_id(segment.segment_id());
  v1::ListLeadsResponse leads;
  ASSERT_TRUE(stub_->ListSegmentLeads(&c2, list, &leads).ok());
  ASSERT_EQ(leads.leads_size(), 1);
  EXPECT_EQ(leads.leads(0).contact().email(), "in@example.com");
}

TEST_F(MarketingServiceTest, CampaignStateMachineIsEnforced) {
  grpc::ClientContext c1;
  v1::CreateCampaignRequest create;
  create.mutable_campaign()->set_name("Radio spot");
  create.mutable_campaign()->set_channel(v1::CHANNEL_RADIO_AD);
  v1::Campaign campaign;
  ASSERT_TRUE(stub_->CreateCampaign(&c1, create, &campaign).ok());
  EXPECT_EQ(campaign.state(), v1::CAMPAIGN_STATE_DRAFT);
  auto move = [&](v1::CampaignState state, const std::string& etag) {
    grpc::ClientContext ctx;
    v1::UpdateCampaignRequest u;
    u.mutable_campaign()->set_campaign_id(campaign.campaign_id());
    u.mutable_campaign()->set_state(state);
    u.mutable_campaign()->set_etag(etag);
    u.mutable_update_mask()->add_paths("state");
    v1::Campaign out;
    grpc::Status s = stub_->UpdateCampaign(&ctx, u, &out);
    if (s.ok()) campaign = out;
    return s.error_code();
  };
  EXPECT_EQ(move(v1::CAMPAIGN_STATE_PAUSED, ""), grpc::StatusCode::FAILED_PRECONDITION);
  const std::string draft_etag = campaign.etag();
  EXPECT_EQ(move(v1::CAMPAIGN_STATE_ACTIVE, draft_etag), grpc::StatusCode::OK);
  EXPECT_EQ(move(v1::CAMPAIGN_STATE_PAUSED, draft_etag), grpc::StatusCode::ABORTED);
  EXPECT_EQ(move(v1::CAMPAIGN_STATE_PAUSED, campaign.etag()), grpc::StatusCode::OK);
  EXPECT_EQ(move(v1::CAMPAIGN_STATE_ACTIVE, ""), grpc::StatusCode::OK);
  EXPECT_EQ(move(v1::CAMPAIGN_STATE_COMPLETED, ""), grpc::StatusCode::OK);
  EXPECT_EQ(move(v1::CAMPAIGN_STATE_ACTIVE, ""), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(campaign.state(), v1::CAMPAIGN_STATE_COMPLETED);
}

TEST_F(MarketingServiceTest, HistoryRecordsEveryStateChange) {
  grpc::ClientContext c1;
  v1::CaptureLeadResponse captured;
  ASSERT_TRUE(stub_->CaptureLead(&c1, Capture("h@example.com"), &captured).ok());
  grpc::ClientContext c2;
  v1::QualifyLeadRequest q;
  q.set_lead_id(captured.lead().lead_id());
  q.set_note("asked for pricing");
  v1::Lead lead;
  ASSERT_TRUE(stub_->QualifyLead(&c2, q, &lead).ok());
  EXPECT_EQ(lead.stage(), v1::LEAD_STAGE_MARKETING_QUALIFIED);
  grpc::ClientContext c3;
  v1::ListLeadHistoryRequest h;
  h.set_lead_id(lead.lead_id());
  v1::ListLeadHistoryResponse history;
  ASSERT_TRUE(stub_->ListLeadHistory(&c3, h, &history).ok());
  ASSERT_EQ(history.entries_size(), 2);
  EXPECT_EQ(history.entries(0).action(), "captured");
  EXPECT_EQ(history.entries(1).action(), "qualified");
  EXPECT_EQ(history.entries(0).kind(), v1::HISTORY_ACTION_CAPTURED);
  EXPECT_EQ(history.entries(1).kind(), v1::HISTORY_ACTION_QUALIFIED);
  EXPECT_THAT(history.entries(1).detail(), HasSubstr("MARKETING_QUALIFIED"));
}

}  // namespace
}  // namespace funnel::marketing
