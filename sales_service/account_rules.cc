#include "sales_service/account_rules.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace funnel::sales {
namespace {

constexpr const char* kBuiltInPersonalDomains[] = {
    "gmail.com",     "googlemail.com", "yahoo.com",      "yahoo.co.uk",    "yahoo.fr",
    "yahoo.de",      "ymail.com",      "rocketmail.com", "outlook.com",    "hotmail.com",
    "hotmail.co.uk", "hotmail.fr",     "hotmail.de",     "live.com",       "live.co.uk",
    "msn.com",       "icloud.com",     "me.com",         "mac.com",        "aol.com",
    "proton.me",     "protonmail.com", "pm.me",          "gmx.com",        "gmx.de",
    "gmx.net",       "web.de",         "t-online.de",    "mail.com",       "email.com",
    "yandex.ru",     "yandex.com",     "mail.ru",        "qq.com",         "163.com",
    "126.com",       "sina.com",       "naver.com",      "daum.net",       "zoho.com",
    "fastmail.com",  "hey.com",        "tutanota.com",   "tuta.io",        "orange.fr",
    "free.fr",       "laposte.net",    "libero.it",      "btinternet.com", "sky.com",
    "comcast.net",   "verizon.net",    "att.net",        "sbcglobal.net",  "rediffmail.com",
    "seznam.cz",     "wp.pl",          "o2.pl",          "bigpond.com",    "uol.com.br",
};

}  // namespace

PersonalDomains::PersonalDomains(const std::vector<std::string>& domains) {
  for (const std::string& d : domains) domains_.insert(absl::AsciiStrToLower(d));
}

PersonalDomains PersonalDomains::BuiltIn() {
  return PersonalDomains(std::vector<std::string>(std::begin(kBuiltInPersonalDomains),
                                                  std::end(kBuiltInPersonalDomains)));
}

absl::StatusOr<PersonalDomains> PersonalDomains::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  std::vector<std::string> domains;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const absl::string_view domain = absl::StripAsciiWhitespace(line);
    if (domain.empty() || domain[0] == '#') continue;
    if (domain.find_first_of(" @/\t") != absl::string_view::npos ||
        domain.find('.') == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": '", domain, "' is not a domain"));
    }
    domains.emplace_back(domain);
  }
  return PersonalDomains(domains);
}

bool PersonalDomains::Contains(absl::string_view domain) const {
  std::string d = absl::AsciiStrToLower(domain);
  absl::string_view rest = d;
  while (true) {
    if (domains_.contains(rest)) return true;
    const size_t dot = rest.find('.');
    if (dot == absl::string_view::npos) return false;
    rest.remove_prefix(dot + 1);
  }
}

std::string CleanAccountName(absl::string_view name) {
  return absl::StrJoin(absl::StrSplit(name, absl::ByAnyChar(" \t\r\n"), absl::SkipEmpty()), " ");
}

std::string AccountKey(absl::string_view name) {
  return absl::AsciiStrToLower(CleanAccountName(name));
}

std::string AccountNameFor(const handoff::v1::Contact& person, const PersonalDomains& personal) {
  std::string company = CleanAccountName(person.company());
  if (!company.empty()) return company;
  const absl::string_view email = person.email();
  const size_t at = email.rfind('@');
  const absl::string_view domain = at == absl::string_view::npos ? "" : email.substr(at + 1);
  if (!domain.empty() && !personal.Contains(domain)) return std::string(domain);
  return std::string(email);
}

}  // namespace funnel::sales
