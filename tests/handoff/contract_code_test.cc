// The contract's own code (handoff/): what both departments use to speak it.

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "handoff/contract.h"
#include "handoff/email.h"
#include "handoff/scrub.h"
#include "handoff/validation.h"

namespace funnel::handoff {
namespace {

using ::funnel::testing::IsOk;
using ::funnel::testing::StatusIs;
using ::testing::HasSubstr;

TEST(NormalizeEmailTest, TrimsAndLowerCases) {
  EXPECT_EQ(*NormalizeEmail("  Ada.Lovelace@Example.COM \t"), "ada.lovelace@example.com");
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

TEST(EventKindTest, EveryKindHasANameAndAMethodAndNamesRoundTrip) {
  for (EventKind kind : {EventKind::kLeadHandoff, EventKind::kLeadErasure,
                         EventKind::kHandoffDecision, EventKind::kDealOutcome}) {
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
  v1::Contact contact;
  contact.set_phone(std::string(65, '1'));
  EXPECT_THAT(ValidateContactFields(contact, "contact."),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("contact.phone")));
  EXPECT_THAT(RequireUuid("3f2b8c1e-0d4a-4b6e-9c1f-2a7d5e8b9c0d", "handoff_id"), IsOk());
  EXPECT_THAT(
      RequireUuid("short", "handoff_id"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("handoff_id: must be a UUID")));
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

}  // namespace
}  // namespace funnel::handoff
