#pragma once

// Who may call the gateway, and what each role may call.
//
// Keys file: one key per line, "<sha256 hex of the key> <principal id> <ROLE>
// [<rep id>]"; '#' starts a comment. Only hashes are stored, so the file reveals no
// key. Policy file: "<package.Service>/<Method> <ROLE>[,<ROLE>...]" per line;
// anything not listed is denied. "limit <ROLE|*> rate=<calls/s> burst=<calls>
// in_flight=<calls>" sets each principal's limits for a role ("*": roles without a
// line of their own; caller_limits.h).

#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "gateway/caller_limits.h"

namespace funnel::gateway {

inline constexpr const char* kRoles[] = {"MARKETING",    "SALES_REP", "SALES_MANAGER",
                                         "REVENUE_OPS",  "ADMIN",     "SERVICE_MARKETING",
                                         "SERVICE_SALES"};
bool IsRole(absl::string_view role);

// A principal id travels to the services and into every log line.
inline constexpr size_t kMaxPrincipalIdBytes = 128;

struct Principal {
  std::string id;
  std::string role;
  int64_t rep_id = 0;
};

std::string Sha256Hex(absl::string_view data);

// A fresh random key (256 bits, hex).
std::string NewKey();

// Parses a keys file's text. INVALID_ARGUMENT naming the line for a bad line.
absl::StatusOr<std::map<std::string, Principal>> ParseKeys(absl::string_view text);

// The keys in force; Reload() swaps them atomically (SIGHUP), so calls in flight
// never see a half-read file.
class KeyStore final {
 public:
  explicit KeyStore(std::string path) : path_(std::move(path)) {}
  // Reads the file; on error keeps the keys it had.
  absl::Status Reload();
  // UNAUTHENTICATED for a missing, malformed or unknown "Bearer <key>" header value.
  absl::StatusOr<Principal> Authenticate(absl::string_view authorization) const;

 private:
  const std::string path_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const std::map<std::string, Principal>> keys_ ABSL_GUARDED_BY(mu_) =
      std::make_shared<const std::map<std::string, Principal>>();
};

class Policy final {
 public:
  // Parses a policy file's text. INVALID_ARGUMENT naming the line for unknown roles
  // or malformed lines.
  static absl::StatusOr<Policy> Parse(absl::string_view text);

  // OK when `role` may call `method` ("/pkg.Service/Method"); PERMISSION_DENIED
  // naming both otherwise.
  absl::Status Check(absl::string_view method, absl::string_view role) const;
  bool Mentions(absl::string_view method) const;
  // The limits of each principal of `role`: its own line, else "*", else none.
  const CallerLimit& LimitFor(absl::string_view role) const;
  const std::map<std::string, std::set<std::string>>& rules() const { return rules_; }

 private:
  std::map<std::string, std::set<std::string>> rules_;  // "pkg.Service/Method" -> roles
  std::map<std::string, CallerLimit> limits_;           // role or "*" -> limits
};

// The policy compiled into the binary (gateway/policy.txt).
absl::string_view DefaultPolicyText();

// Appends a new key for `role` to `keys_file` and returns it (the only time it is
// ever shown).
absl::StatusOr<std::string> AddKey(const std::string& keys_file, const std::string& principal_id,
                                   const std::string& role, int64_t rep_id);

}  // namespace funnel::gateway
