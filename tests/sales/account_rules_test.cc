#include "sales_service/account_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "common/testing/status_matchers.h"

namespace funnel::sales {
namespace {

using ::funnel::testing::StatusIs;
using ::testing::HasSubstr;

handoff::v1::Contact Person(const std::string& email, const std::string& company) {
  handoff::v1::Contact c;
  c.set_email(email);
  c.set_company(company);
  return c;
}

TEST(AccountRulesTest, CompanyNamesAreTrimmedAndMatchedCaseInsensitively) {
  EXPECT_EQ(CleanAccountName("  Hopper \t  Inc "), "Hopper Inc");
  EXPECT_EQ(AccountKey("HOPPER INC "), AccountKey("Hopper Inc"));
  EXPECT_NE(AccountKey("Hopper Inc"), AccountKey("Hopper Ink"));
}

TEST(AccountRulesTest, APersonalDomainNeverNamesACompany) {
  const PersonalDomains personal = PersonalDomains::BuiltIn();
  EXPECT_EQ(AccountNameFor(Person("alan@gmail.com", ""), personal), "alan@gmail.com");
  EXPECT_EQ(AccountNameFor(Person("bea@GMAIL.com", ""), personal), "bea@GMAIL.com");
  EXPECT_EQ(AccountNameFor(Person("cy@mail.yahoo.co.uk", ""), personal), "cy@mail.yahoo.co.uk");
  EXPECT_EQ(AccountNameFor(Person("dee@initech.example", ""), personal), "initech.example");
  EXPECT_EQ(AccountNameFor(Person("alan@gmail.com", " Hopper  Inc "), personal), "Hopper Inc");
}

TEST(AccountRulesTest, AFileReplacesTheBuiltInList) {
  const std::string path = ::testing::TempDir() + "/personal_domains.txt";
  {
    std::ofstream out(path);
    out << "# our own list\n\nexample.org\n  Corp-Mail.example  \n";
  }
  auto loaded = PersonalDomains::FromFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->size(), 2u);
  EXPECT_TRUE(loaded->Contains("corp-mail.example"));
  EXPECT_FALSE(loaded->Contains("gmail.com"));
  {
    std::ofstream out(path);
    out << "example.org\nnot a domain\n";
  }
  EXPECT_THAT(PersonalDomains::FromFile(path),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(":2: 'not a domain'")));
  std::remove(path.c_str());
  EXPECT_THAT(PersonalDomains::FromFile(path), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace funnel::sales
