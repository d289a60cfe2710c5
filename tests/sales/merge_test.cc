// MergeContacts and MergeAccounts over the real store and service: what moves,
// what fills in, the tombstones old ids answer with, and the refusals.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/ids.h"
#include "tests/sales/sales_fixture.h"

namespace funnel::sales {
namespace {

using ::testing::HasSubstr;

class MergeTest : public SalesFixture {
 protected:
  void SetUp() override {
    SalesFixture::SetUp();
    rep_ = Rep("merger", v1::REP_ROLE_REP);
  }

  int64_t Account(const std::string& name, const std::string& industry = "") {
    grpc::ClientContext ctx;
    v1::CreateAccountRequest r;
    r.mutable_account()->set_name(name);
    r.mutable_account()->set_industry(industry);
    v1::Account out;
    EXPECT_TRUE(stub_->CreateAccount(&ctx, r, &out).ok());
    return out.account_id();
  }
  int64_t Contact(const std::string& email, int64_t account, const std::string& phone = "") {
    grpc::ClientContext ctx;
    v1::CreateContactRequest r;
    r.mutable_contact()->set_email(email);
    r.mutable_contact()->set_account_id(account);
    r.mutable_contact()->set_first_name("Grace");
    r.mutable_contact()->set_phone(phone);
    v1::Contact out;
    EXPECT_TRUE(stub_->CreateContact(&ctx, r, &out).ok());
    return out.contact_id();
  }
  int64_t Opportunity(int64_t account, int64_t contact) {
    grpc::ClientContext ctx;
    v1::CreateOpportunityRequest r;
    r.mutable_opportunity()->set_name("deal");
    r.mutable_opportunity()->set_account_id(account);
    r.mutable_opportunity()->set_contact_id(contact);
    r.mutable_opportunity()->set_owner_rep_id(rep_);
    r.mutable_opportunity()->set_source(v1::SOURCE_SALES_PROSPECTING);
    v1::Opportunity out;
    const grpc::Status s = stub_->CreateOpportunity(&ctx, r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.opportunity_id();
  }
  grpc::Status MergeContacts(int64_t survivor, std::vector<int64_t> dups, v1::Contact* out,
                             const std::string& request_id = "") {
    grpc::ClientContext ctx;
    v1::MergeContactsRequest r;
    r.set_survivor_contact_id(survivor);
    for (int64_t d : dups) r.add_duplicate_contact_ids(d);
    r.set_request_id(request_id);
    return stub_->MergeContacts(&ctx, r, out);
  }
  grpc::Status MergeAccounts(int64_t survivor, std::vector<int64_t> dups, v1::Account* out) {
    grpc::ClientContext ctx;
    v1::MergeAccountsRequest r;
    r.set_survivor_account_id(survivor);
    for (int64_t d : dups) r.add_duplicate_account_ids(d);
    return stub_->MergeAccounts(&ctx, r, out);
  }

  int64_t rep_ = 0;
};

TEST_F(MergeTest, AContactMergeMovesDealsAndActivitiesAndLeavesATombstone) {
  const int64_t acme = Account("Acme");
  const int64_t survivor = Contact("grace@acme.example", acme);
  const int64_t dup = Contact("g.hopper@acme-mail.example", 0, "+1 555 0100");
  const int64_t deal = Opportunity(acme, dup);
  {
    grpc::ClientContext ctx;
    v1::LogActivityRequest r;
    r.mutable_activity()->set_type(v1::ACTIVITY_TYPE_CALL);
    r.mutable_activity()->set_contact_id(dup);
    r.mutable_activity()->set_opportunity_id(deal);
    v1::Activity out;
    ASSERT_TRUE(stub_->LogActivity(&ctx, r, &out).ok());
  }
  // The duplicate had opted out (as marketing reported); the merge keeps that.
  db_.Execute(absl::StrCat("UPDATE contacts SET consent = 3 WHERE contact_id = ", dup));

  v1::Contact merged;
  ASSERT_TRUE(MergeContacts(survivor, {dup}, &merged, "merge-1").ok());
  EXPECT_EQ(merged.contact_id(), survivor);
  EXPECT_EQ(merged.phone(), "+1 555 0100");  // filled
  EXPECT_EQ(merged.account_id(), acme);      // kept
  EXPECT_EQ(merged.consent(), handoff::v1::CONSENT_STATUS_OPTED_OUT);
  EXPECT_EQ(db_.QueryInt(absl::StrCat("SELECT contact_id FROM opportunities WHERE "
                                      "opportunity_id = ",
                                      deal)),
            survivor);
  EXPECT_EQ(
      db_.QueryInt(absl::StrCat("SELECT COUNT(*) FROM activities WHERE contact_id = ", survivor)),
      1);

  // The old id answers with the survivor; lists count the person once.
  {
    grpc::ClientContext ctx;
    v1::GetContactRequest r;
    r.set_contact_id(dup);
    v1::Contact out;
    ASSERT_TRUE(stub_->GetContact(&ctx, r, &out).ok());
    EXPECT_EQ(out.contact_id(), survivor);
    EXPECT_EQ(out.merged_into_contact_id(), survivor);
  }
  {
    grpc::ClientContext ctx;
    v1::ListContactsResponse out;
    ASSERT_TRUE(stub_->ListContacts(&ctx, v1::ListContactsRequest(), &out).ok());
    ASSERT_EQ(out.contacts_size(), 1);
    EXPECT_EQ(out.contacts(0).contact_id(), survivor);
  }
  // Again with the same request id, or plainly again: nothing changes.
  v1::Contact again;
  ASSERT_TRUE(MergeContacts(survivor, {dup}, &again, "merge-1").ok());
  EXPECT_EQ(again.SerializeAsString(), merged.SerializeAsString());
  ASSERT_TRUE(MergeContacts(survivor, {dup}, &again).ok());
  EXPECT_EQ(again.etag(), merged.etag());  // not even a new version

  // A deal cannot be pointed at the tombstone.
  {
    grpc::ClientContext ctx;
    v1::CreateOpportunityRequest r;
    r.mutable_opportunity()->set_name("stale");
    r.mutable_opportunity()->set_account_id(acme);
    r.mutable_opportunity()->set_contact_id(dup);
    r.mutable_opportunity()->set_owner_rep_id(rep_);
    r.mutable_opportunity()->set_source(v1::SOURCE_SALES_PROSPECTING);
    v1::Opportunity out;
    const grpc::Status s = stub_->CreateOpportunity(&ctx, r, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(s.error_message(), HasSubstr("was merged into contact"));
  }
}

TEST_F(MergeTest, RefusalsNameTheFieldAndChangeNothing) {
  const int64_t a = Contact("a@x.example", 0);
  const int64_t b = Contact("b@x.example", 0);
  const int64_t c = Contact("c@x.example", 0);
  v1::Contact out;
  grpc::Status s = MergeContacts(a, {a}, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("duplicate_contact_ids"));
  s = MergeContacts(a, {b, b}, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  s = MergeContacts(a, {}, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  s = MergeContacts(a, {404}, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("duplicate_contact_ids: contact 404"));
  s = MergeContacts(404, {a}, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("survivor_contact_id"));
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM contacts WHERE merged_into <> 0"), 0);

  ASSERT_TRUE(MergeContacts(a, {b}, &out).ok());
  // b is gone into a: it cannot survive, nor be merged elsewhere.
  s = MergeContacts(b, {c}, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("survivor_contact_id: contact"));
  s = MergeContacts(c, {b}, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  // a merged into c later: b's tombstone follows, one hop from c.
  ASSERT_TRUE(MergeContacts(c, {a}, &out).ok());
  EXPECT_EQ(db_.QueryInt(absl::StrCat("SELECT merged_into FROM contacts WHERE contact_id = ", b)),
            c);
}

TEST_F(MergeTest, AnAccountMergeMovesContactsAndDealsAndHandoffsLandOnTheSurvivor) {
  const int64_t acme = Account("Acme", "software");
  const int64_t acme_inc = Account("ACME Incorporated", "hardware");
  db_.Execute(
      absl::StrCat("UPDATE accounts SET region = 'EMEA', company_size = 40 "
                   "WHERE account_id = ",
                   acme_inc));
  const int64_t person = Contact("pat@acme-inc.example", acme_inc);
  const int64_t deal = Opportunity(acme_inc, person);
  v1::Account merged;
  ASSERT_TRUE(MergeAccounts(acme, {acme_inc}, &merged).ok());
  EXPECT_EQ(merged.industry(), "software");  // never overwritten
  EXPECT_EQ(merged.region(), "EMEA");        // filled
  EXPECT_EQ(merged.company_size(), 40);
  EXPECT_EQ(
      db_.QueryInt(absl::StrCat("SELECT account_id FROM contacts WHERE contact_id = ", person)),
      acme);
  EXPECT_EQ(db_.QueryInt(absl::StrCat("SELECT account_id FROM opportunities WHERE "
                                      "opportunity_id = ",
                                      deal)),
            acme);
  {
    grpc::ClientContext ctx;
    v1::GetAccountRequest r;
    r.set_account_id(acme_inc);
    v1::Account out;
    ASSERT_TRUE(stub_->GetAccount(&ctx, r, &out).ok());
    EXPECT_EQ(out.account_id(), acme);
    EXPECT_EQ(out.merged_into_account_id(), acme);
  }
  // A handoff from someone at the merged-away company lands on the survivor.
  const int64_t boss = Rep("boss", v1::REP_ROLE_MANAGER);
  handoff::v1::LeadHandoff lead = Lead(9, "new@acme-inc.example", "ACME Incorporated");
  ASSERT_TRUE(inbox_.Submit(lead, absl::Now()).ok());
  grpc::ClientContext ctx;
  As(&ctx, "SALES_MANAGER", boss);
  v1::AcceptHandoffRequest a;
  a.set_handoff_id(lead.handoff_id());
  v1::AcceptHandoffResponse accepted;
  const grpc::Status s = stub_->AcceptHandoff(&ctx, a, &accepted);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(accepted.opportunity().account_id(), acme);
}

// Marketing merged two leads of one person, both handed over and accepted: sales
// files everything under the survivor, merges the two contacts, remembers the merge
// for what arrives later, and erasing the survivor erases both.
TEST_F(MergeTest, ALeadMergeFromMarketingLinksEverythingToTheSurvivor) {
  const int64_t boss = Rep("boss", v1::REP_ROLE_MANAGER);
  const auto accept = [&](const handoff::v1::LeadHandoff& lead) {
    EXPECT_TRUE(inbox_.Submit(lead, absl::Now()).ok());
    grpc::ClientContext ctx;
    As(&ctx, "SALES_MANAGER", boss);
    v1::AcceptHandoffRequest a;
    a.set_handoff_id(lead.handoff_id());
    v1::AcceptHandoffResponse out;
    const grpc::Status s = stub_->AcceptHandoff(&ctx, a, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  };
  handoff::v1::LeadHandoff work = Lead(1, "ada@work.example", "Analytical");
  work.mutable_contact()->set_phone("+44 20 0000");
  const v1::AcceptHandoffResponse first = accept(work);
  const v1::AcceptHandoffResponse second = accept(Lead(2, "ada@home.example", "Analytical"));
  ASSERT_NE(first.opportunity().contact_id(), second.opportunity().contact_id());

  handoff::v1::LeadMerged merge;
  merge.set_event_id(common::NewUuid());
  merge.set_survivor_lead_id(1);
  merge.add_merged_lead_ids(2);
  handoff::v1::MergeLeadResponse response;
  {
    grpc::ClientContext ctx;
    const grpc::Status s = inbox_stub_->MergeLead(&ctx, merge, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_FALSE(response.duplicate());
  EXPECT_EQ(response.handoffs_relinked(), 1);
  EXPECT_EQ(response.opportunities_relinked(), 1);
  EXPECT_EQ(response.contacts_merged(), 1);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM handoffs WHERE lead_id = 1"), 2);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM opportunities WHERE lead_id = 1"), 2);
  EXPECT_EQ(db_.QueryInt(absl::StrCat("SELECT COUNT(*) FROM opportunities WHERE contact_id = ",
                                      first.opportunity().contact_id())),
            2);
  EXPECT_EQ(inbox_.Get(second.handoff().handoff_id(), absl::Now())->lead().lead_id(), 1);
  {
    grpc::ClientContext ctx;
    handoff::v1::MergeLeadResponse again;
    ASSERT_TRUE(inbox_stub_->MergeLead(&ctx, merge, &again).ok());
    EXPECT_TRUE(again.duplicate());
  }

  // A handoff marketing wrote for lead 2 before the merge, delivered after it.
  handoff::v1::LeadHandoff late = Lead(2, "ada@home.example", "Analytical");
  ASSERT_TRUE(inbox_.Submit(late, absl::Now()).ok());
  EXPECT_EQ(inbox_.Get(late.handoff_id(), absl::Now())->lead().lead_id(), 1);

  // Erasing the survivor erases the person everywhere, the merged contact too.
  handoff::v1::LeadErasure erasure;
  erasure.set_event_id(common::NewUuid());
  erasure.set_lead_id(1);
  ASSERT_TRUE(inbox_.Erase(erasure).ok());
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM contacts WHERE email IS NOT NULL OR phone <> ''"),
            0);

  // Bad merges change nothing.
  grpc::ClientContext ctx;
  handoff::v1::LeadMerged bad;
  bad.set_event_id(common::NewUuid());
  bad.set_survivor_lead_id(3);
  bad.add_merged_lead_ids(3);
  const grpc::Status s = inbox_stub_->MergeLead(&ctx, bad, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("merged_lead_ids"));
}

}  // namespace
}  // namespace funnel::sales
