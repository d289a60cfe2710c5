#pragma once

// Which account a handed-over person belongs to, as pure rules. A company name is
// matched trimmed and case-insensitively; without one, the email's domain names the
// company unless it is a personal (freemail) domain, where two strangers share a
// domain and nothing else: then the person gets an account of their own.

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "funnel/handoff/v1/types.pb.h"

namespace funnel::sales {

// Personal email domains: never a company.
class PersonalDomains {
 public:
  // The built-in list: the big webmail and ISP mailbox providers.
  static PersonalDomains BuiltIn();
  // One domain per line; blank lines and lines starting with '#' are skipped. A
  // file replaces the built-in list (NOT_FOUND / INVALID_ARGUMENT naming the path).
  static absl::StatusOr<PersonalDomains> FromFile(const std::string& path);

  explicit PersonalDomains(const std::vector<std::string>& domains);

  // True for a listed domain or any subdomain of one (mail.yahoo.co.uk).
  bool Contains(absl::string_view domain) const;
  size_t size() const { return domains_.size(); }

 private:
  absl::flat_hash_set<std::string> domains_;
};

// The key accounts are unique by: trimmed, inner runs of spaces as one, lower case
// ("  HOPPER   INC " and "Hopper Inc" are one account).
std::string AccountKey(absl::string_view name);

// A company name as stored: trimmed, inner runs of spaces as one.
std::string CleanAccountName(absl::string_view name);

// The account name for a person handed over by marketing: their company; else
// their email's domain when it is a company's; else their own email address (an
// account of one, renamed when the person is erased).
std::string AccountNameFor(const handoff::v1::Contact& person, const PersonalDomains& personal);

}  // namespace funnel::sales
