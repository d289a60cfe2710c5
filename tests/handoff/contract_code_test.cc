// The contract's own code (handoff/): what both departments use to speak it.

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "handoff/contract.h"
#include "handoff/email.h"
#include "handoff/schema.h"
#include "handoff/scrub.h"
#include "handoff/validation.h"
#include "tests/testing/harness.h"

namespace funnel::handoff {
namespace {

using ::funnel::testing::IsOk;
using ::funnel::testing::StatusIs;
using ::testing::HasSubstr;

TEST(NormalizeEmailTest, TrimsAndLowerCases) {
  EXPECT_EQ(*NormalizeEmail("  Ada.Lovelace@Example.COM \t"), "ada.lovelace@example.com");
}

// UTS #46 maps an ideographic full stop to '.', so "a.。" is "a.." once mapped: it
// was taken on first sight and refused when normalised again (found by the fuzzer).
TEST(NormalizeEmailTest, ADomainEmptyLabelledOnceMappedIsRefused) {
  EXPECT_THAT(NormalizeEmail("$@%.\u3002", "contact.email"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("contact.email")));
}

TEST(NormalizeEmailTest, RejectsMalformedAddressesNamingTheField) {
  for (const char* bad : {"", "   ", "ada", "@example.com", "ada@", "ada@example", "a@b@c.com",
                          "ada @example.com", "ada@example..com", "ada@.com", "ada@example.com."}) {
    EXPECT_THAT(NormalizeEmail(bad, "contact.email"),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("contact.email: ")))
        << bad;
  }
  EXPECT_THAT(NormalizeEmail(std::string(310, 'a') + "@example.com"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("320")));
}

TEST(NormalizeEmailTest, RefusesInvisibleCharactersAndBrokenUtf8) {
  for (const char* bad : {"ada\xe2\x80\x8b@example.com",  // zero-width space
                          "ada@exa\xc2\xadmple.com",      // soft hyphen
                          "\xef\xbb\xbf"
                          "ada@example.com",              // byte-order mark
                          "ada\xc2\xa0x@example.com",     // no-break space
                          "ada@example.com\xe2\x80\xae",  // right-to-left override
                          "ada\xff@example.com",          // not UTF-8
                          "ada\xc0\xa0@example.com",      // overlong
                          "ada\xe2\x80@example.com"}) {   // cut short
    EXPECT_THAT(NormalizeEmail(bad, "contact.email"),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("contact.email: ")))
        << bad;
  }
  // Letters beyond ASCII are letters.
  EXPECT_THAT(NormalizeEmail("jos\xc3\xa9@example.com"), IsOk());
  EXPECT_THAT(NormalizeEmail("ada@m\xc3\xbcller.de"), IsOk());
}

TEST(NormalizeEmailTest, AnInternationalizedDomainIsOneDomainHoweverWritten) {
  // "MÜLLER.de", "müller.de" and its A-label are one person's domain.
  const std::string want = "ada@m\xc3\xbcller.de";
  EXPECT_EQ(*NormalizeEmail("ada@M\xc3\x9cLLER.de"), want);
  EXPECT_EQ(*NormalizeEmail("ada@m\xc3\xbcller.de"), want);
  EXPECT_EQ(*NormalizeEmail("Ada@XN--MLLER-KVA.DE"), want);
  EXPECT_EQ(*NormalizeEmail("ada@\xc3\x84rger.example"), "ada@\xc3\xa4rger.example");  // Ä
  EXPECT_THAT(NormalizeEmail("ada@xn--zz-invalid.de", "contact.email"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("contact.email: ")));
}

// An A-label whose U-label UTS #46 maps again ("⒥" is "(j)") is refused: taken, it
// normalised to an address that normalised to another one (found by email_fuzzer).
TEST(NormalizeEmailTest, AnALabelThatDoesNotRoundTripIsRefused) {
  EXPECT_THAT(NormalizeEmail("ada@aaa.xn--xn-wwwwaaaaaaaawwom", "contact.email"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("contact.email: ")));
}

TEST(EventKindTest, EveryKindHasANameAndAMethodAndNamesRoundTrip) {
  for (EventKind kind :
       {EventKind::kLeadHandoff, EventKind::kLeadErasure, EventKind::kHandoffDecision,
        EventKind::kDealOutcome, EventKind::kConsentChange, EventKind::kLeadMerged}) {
    EXPECT_EQ(KindFromName(KindName(kind)), kind);
    EXPECT_EQ(MethodFor(kind).rfind("/funnel.handoff.v1.", 0), 0u) << KindName(kind);
  }
  EXPECT_EQ(KindFromName("LeadTeleported"), std::nullopt);
}

TEST(ValidationTest, MoneyContactAndUuidNameTheirFields) {
  v1::Money money;
  money.set_amount_minor(100);
  EXPECT_THAT(ValidateMoney(money, "amount"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("amount.currency_code")));
  money.set_currency_code("EUR");
  EXPECT_THAT(ValidateMoney(money, "amount"), IsOk());
  money.set_amount_minor(kMaxAmountMinor);
  EXPECT_THAT(ValidateMoney(money, "amount"), IsOk());
  money.set_amount_minor(kMaxAmountMinor + 1);
  EXPECT_THAT(ValidateMoney(money, "amount"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("amount.amount_minor")));
  EXPECT_EQ(AddMinor(INT64_MAX - 1, 5), INT64_MAX);
  EXPECT_EQ(AddMinor(INT64_MIN + 1, -5), INT64_MIN);
  EXPECT_EQ(AddMinor(2, 3), 5);
  v1::Contact contact;
  contact.set_phone(std::string(65, '1'));
  EXPECT_THAT(ValidateContactFields(contact, "contact."),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("contact.phone")));
  EXPECT_THAT(RequireUuid("3f2b8c1e-0d4a-4b6e-9c1f-2a7d5e8b9c0d", "handoff_id"), IsOk());
  EXPECT_THAT(
      RequireUuid("short", "handoff_id"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("handoff_id: must be a UUID")));
}

// 36 bytes are not a UUID: one with non-ASCII bytes reached SQL and came back
// INTERNAL "database error 1267" (a collation clash; found by sales_service_fuzzer).
TEST(ValidationTest, AUuidIsHexDigitsInItsFiveGroups) {
  EXPECT_THAT(RequireUuid("3F2B8C1E-0D4A-4B6E-9C1F-2A7D5E8B9C0D", "handoff_id"), IsOk());
  for (const std::string bad :
       {"\xde\x9d\xc8\x9f"
        "1516-28ae-4d2a-a6d2-abf715880002",
        "3f2b8c1e-0d4a-4b6e-9c1f-2a7d5e8b9c0g", "3f2b8c1e00d4a-4b6e-9c1f-2a7d5e8b9c0d",
        "3f2b8c1e-0d4a-4b6e-9c1f-2a7d5e8b9c0"}) {
    EXPECT_THAT(RequireUuid(bad, "handoff_id"), StatusIs(absl::StatusCode::kInvalidArgument,
                                                         HasSubstr("handoff_id: must be a UUID")))
        << bad;
  }
}

TEST(ScrubTest, ErasureLeavesNothingThatNamesThePerson) {
  v1::LeadHandoff handoff;
  handoff.set_lead_id(7);
  handoff.mutable_contact()->set_email("ada@example.com");
  handoff.mutable_qualification()->set_note("Ada called twice");
  handoff.mutable_qualification()->set_qualified_by("marketer");
  ScrubPersonalData(&handoff);
  EXPECT_FALSE(handoff.has_contact());
  EXPECT_EQ(handoff.qualification().note(), "");
  EXPECT_EQ(handoff.lead_id(), 7);
}

// A department database made before the contract had a schema track of its own
// (its first migrations created the outbox and inbox_events) takes the track
// without error and gains what the track added since.
TEST(ContractSchemaTest, ADatabaseFromBeforeTheTrackIsUpgraded) {
  funnel::testing::TestDatabase db("contract_schema");
  common::ConnectionPool pool(db.options());
  const std::vector<common::Migration> before = {{1, "old_department", R"sql(
CREATE TABLE outbox (
  seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  event_id CHAR(36) NOT NULL,
  lead_id BIGINT NOT NULL,
  kind VARCHAR(40) NOT NULL,
  payload MEDIUMBLOB NOT NULL,
  created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  attempts INT NOT NULL DEFAULT 0,
  last_error VARCHAR(2000) NOT NULL DEFAULT '',
  next_attempt_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  delivered_at TIMESTAMP(6) NULL,
  UNIQUE KEY outbox_event (event_id)
) ENGINE=InnoDB;
CREATE TABLE inbox_events (
  event_id CHAR(36) NOT NULL PRIMARY KEY,
  kind VARCHAR(40) NOT NULL,
  response MEDIUMBLOB NOT NULL,
  received_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB;
INSERT INTO outbox (event_id, lead_id, kind, payload) VALUES (UUID(), 1, 'LeadHandoff', '');
)sql"}};
  ASSERT_THAT(common::ApplyMigrations(pool, before), IsOk());
  ASSERT_THAT(ApplySchema(pool, before), IsOk());
  ASSERT_THAT(ApplySchema(pool, before), IsOk());  // and again: nothing to do
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM outbox WHERE request_id = ''"), 1);
  EXPECT_EQ(db.QueryInt("SELECT MAX(version) FROM contract_schema_migrations"),
            Migrations().back().version);
  EXPECT_EQ(db.QueryInt("SELECT MAX(version) FROM schema_migrations"), 1);
}

}  // namespace
}  // namespace funnel::handoff
