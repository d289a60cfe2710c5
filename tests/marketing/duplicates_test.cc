// Duplicate-lead suggestions: the pairing rule (pure), and the groups MariaDB makes
// of real leads, through the service.

#include "marketing_service/duplicates.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "tests/marketing/marketing_fixture.h"

namespace funnel::marketing {
namespace {

using ::funnel::testing::IsOk;
using v1::DUPLICATE_REASON_SAME_LOCAL_PART_AT_COMPANY_DOMAIN;
using v1::DUPLICATE_REASON_SAME_NAME_AND_COMPANY;
using v1::DUPLICATE_REASON_SAME_PHONE;

TEST(DuplicatePairsTest, PairsEveryTwoInAGroupWithEveryReasonTheyShare) {
  const std::vector<DuplicateGroup> groups = {
      {DUPLICATE_REASON_SAME_PHONE, {9, 3, 5}},
      {DUPLICATE_REASON_SAME_NAME_AND_COMPANY, {5, 3}},
  };
  const std::vector<DuplicatePair> pairs = DuplicatePairs(groups, 0);
  const std::vector<DuplicatePair> want = {
      {3, 5, {DUPLICATE_REASON_SAME_PHONE, DUPLICATE_REASON_SAME_NAME_AND_COMPANY}},
      {3, 9, {DUPLICATE_REASON_SAME_PHONE}},
      {5, 9, {DUPLICATE_REASON_SAME_PHONE}},
  };
  EXPECT_EQ(pairs, want);
  const std::vector<DuplicatePair> of_nine = {{3, 9, {DUPLICATE_REASON_SAME_PHONE}},
                                              {5, 9, {DUPLICATE_REASON_SAME_PHONE}}};
  EXPECT_EQ(DuplicatePairs(groups, 9), of_nine);
  EXPECT_TRUE(DuplicatePairs(groups, 4).empty());
}

class LeadDuplicatesTest : public MarketingFixture {
 protected:
  int64_t Lead(const std::string& email, const std::string& first, const std::string& last,
               const std::string& company, const std::string& phone) {
    v1::CaptureLeadRequest r = Capture(email);
    r.mutable_contact()->set_first_name(first);
    r.mutable_contact()->set_last_name(last);
    r.mutable_contact()->set_company(company);
    r.mutable_contact()->set_phone(phone);
    auto captured = leads_.Capture(r, "t", absl::Now());
    EXPECT_THAT(captured, IsOk());
    return captured.ok() ? captured->lead().lead_id() : 0;
  }

  v1::ListDuplicateLeadsResponse List(int64_t lead_id = 0, int page_size = 0,
                                      const std::string& token = "") {
    v1::ListDuplicateLeadsRequest request;
    request.set_lead_id(lead_id);
    request.set_page_size(page_size);
    request.set_page_token(token);
    grpc::ClientContext ctx;
    v1::ListDuplicateLeadsResponse response;
    const grpc::Status s = stub_->ListDuplicateLeads(&ctx, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }
};

TEST_F(LeadDuplicatesTest, SuggestsLikelyPairsWithTheirEvidenceAndNothingElse) {
  const int64_t jane = Lead("jane.doe@acme.com", "Jane", "Doe", "Acme", "+1 (555) 010-9999");
  const int64_t jane_uk = Lead("jane.doe@acme.co.uk", " jane", "DOE ", "ACME", "");
  const int64_t jane_mobile = Lead("jd@example.org", "J.", "Doe", "", "1-555-010-9999");
  // Alike, but not evidence of one person.
  Lead("info@acme.com", "", "", "", "");
  Lead("info@acme.de", "", "", "", "");                     // a generic mailbox
  Lead("jane.doe@gmail.com", "Janet", "Doe", "Other", "");  // another company's domain
  Lead("short@a.com", "", "", "", "555");                   // too few digits
  Lead("short@b.com", "", "", "", "555");
  const int64_t erased = Lead("jane.doe@acme.de", "Jane", "Doe", "Acme", "");
  ASSERT_THAT(leads_.Erase(erased, {}, "t", absl::Now()), IsOk());

  const v1::ListDuplicateLeadsResponse all = List();
  ASSERT_EQ(all.pairs_size(), 2) << all.DebugString();
  EXPECT_EQ(all.pairs(0).lead().lead_id(), jane);
  EXPECT_EQ(all.pairs(0).other().lead_id(), jane_uk);
  EXPECT_EQ(all.pairs(0).other().contact().email(), "jane.doe@acme.co.uk");
  ASSERT_EQ(all.pairs(0).reasons_size(), 2);
  EXPECT_EQ(all.pairs(0).reasons(0), DUPLICATE_REASON_SAME_NAME_AND_COMPANY);
  EXPECT_EQ(all.pairs(0).reasons(1), DUPLICATE_REASON_SAME_LOCAL_PART_AT_COMPANY_DOMAIN);
  EXPECT_EQ(all.pairs(1).lead().lead_id(), jane);
  EXPECT_EQ(all.pairs(1).other().lead_id(), jane_mobile);
  ASSERT_EQ(all.pairs(1).reasons_size(), 1);
  EXPECT_EQ(all.pairs(1).reasons(0), DUPLICATE_REASON_SAME_PHONE);
  EXPECT_TRUE(all.next_page_token().empty());

  // One lead's pairs, a page at a time.
  const v1::ListDuplicateLeadsResponse first = List(jane, 1);
  ASSERT_EQ(first.pairs_size(), 1);
  EXPECT_EQ(first.pairs(0).other().lead_id(), jane_uk);
  ASSERT_FALSE(first.next_page_token().empty());
  const v1::ListDuplicateLeadsResponse second = List(jane, 1, first.next_page_token());
  ASSERT_EQ(second.pairs_size(), 1);
  EXPECT_EQ(second.pairs(0).other().lead_id(), jane_mobile);
  EXPECT_TRUE(second.next_page_token().empty());
  EXPECT_EQ(List(jane_mobile).pairs_size(), 1);
}

TEST_F(LeadDuplicatesTest, AnUnknownLeadOrAForeignTokenIsRefused) {
  v1::ListDuplicateLeadsRequest request;
  request.set_lead_id(424242);
  grpc::ClientContext ctx;
  v1::ListDuplicateLeadsResponse response;
  EXPECT_EQ(stub_->ListDuplicateLeads(&ctx, request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  request.set_lead_id(-1);
  grpc::ClientContext ctx2;
  EXPECT_EQ(stub_->ListDuplicateLeads(&ctx2, request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  request.set_lead_id(0);
  request.set_page_token("not a token");
  grpc::ClientContext ctx3;
  EXPECT_EQ(stub_->ListDuplicateLeads(&ctx3, request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace funnel::marketing
