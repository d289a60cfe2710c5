#include "gateway/auth.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status.h"

namespace funnel::gateway {
namespace {

// Calls `parse(fields)` for every line of `text` that is not blank or a comment
// ('#' to the end of the line), with its fields split at white space. A line parse
// refuses is INVALID_ARGUMENT "<what> line <n>: <why>".
template <typename ParseLine>
absl::Status ForEachLine(absl::string_view text, absl::string_view what, ParseLine parse) {
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    const std::vector<std::string> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (absl::Status s = parse(fields); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(what, " line ", number, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool IsRole(absl::string_view role) {
  for (const char* r : kRoles) {
    if (role == r) return true;
  }
  return false;
}

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string NewKey() {
  unsigned char bytes[32];
  RAND_bytes(bytes, sizeof(bytes));
  return absl::StrCat("fk_", absl::BytesToHexString(absl::string_view(
                                 reinterpret_cast<const char*>(bytes), sizeof(bytes))));
}

absl::StatusOr<std::map<std::string, Principal>> ParseKeys(absl::string_view text) {
  std::map<std::string, Principal> keys;
  RETURN_IF_ERROR(ForEachLine(text, "keys file", [&](const std::vector<std::string>& f) {
    Principal p;
    if (f.size() < 3 || f.size() > 4 || f[0].size() != 64 ||
        !std::all_of(f[0].begin(), f[0].end(), absl::ascii_isxdigit) || !IsRole(f[2]) ||
        (f.size() == 4 && (!absl::SimpleAtoi(f[3], &p.rep_id) || p.rep_id < 0))) {
      return absl::InvalidArgumentError("want '<sha256 hex> <principal id> <ROLE> [<rep id>]'");
    }
    // The id reaches every service and log line: short and printable.
    if (f[1].size() > kMaxPrincipalIdBytes ||
        !std::all_of(f[1].begin(), f[1].end(), [](char c) { return c > ' ' && c < 0x7f; })) {
      return absl::InvalidArgumentError(absl::StrCat(
          "principal id longer than ", kMaxPrincipalIdBytes, " characters or not printable ASCII"));
    }
    p.id = f[1];
    p.role = f[2];
    keys[absl::AsciiStrToLower(f[0])] = p;
    return absl::OkStatus();
  }));
  return keys;
}

absl::Status KeyStore::Reload() {
  std::ifstream in(path_);
  if (!in) return absl::NotFoundError(absl::StrCat("keys file ", path_, " cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<std::map<std::string, Principal>> keys = ParseKeys(text.str());
  if (!keys.ok()) return keys.status();
  auto fresh = std::make_shared<const std::map<std::string, Principal>>(*std::move(keys));
  absl::MutexLock lock(&mu_);
  keys_ = std::move(fresh);
  return absl::OkStatus();
}

absl::StatusOr<Principal> KeyStore::Authenticate(absl::string_view authorization) const {
  if (authorization.empty()) {
    return common::WithReason(
        absl::UnauthenticatedError("missing 'authorization: Bearer <key>' metadata"),
        errors::v1::KEY_MISSING);
  }
  absl::string_view key = authorization;
  if (!absl::ConsumePrefix(&key, "Bearer ") && !absl::ConsumePrefix(&key, "bearer ")) {
    return common::WithReason(absl::UnauthenticatedError("authorization must be 'Bearer <key>'"),
                              errors::v1::KEY_MALFORMED);
  }
  std::shared_ptr<const std::map<std::string, Principal>> keys;
  {
    absl::MutexLock lock(&mu_);
    keys = keys_;
  }
  auto it = keys->find(Sha256Hex(absl::StripAsciiWhitespace(key)));
  if (it == keys->end()) {
    return common::WithReason(absl::UnauthenticatedError("unknown API key"),
                              errors::v1::KEY_UNKNOWN);
  }
  return it->second;
}

absl::StatusOr<Policy> Policy::Parse(absl::string_view text) {
  Policy policy;
  RETURN_IF_ERROR(ForEachLine(text, "policy", [&](const std::vector<std::string>& f) {
    if (f[0] == "limit") {
      if (f.size() < 3 || (f[1] != "*" && !IsRole(f[1]))) {
        return absl::InvalidArgumentError(
            "want 'limit <ROLE|*> rate=<calls/s> burst=<calls> in_flight=<calls>'");
      }
      absl::StatusOr<CallerLimit> limit = ParseCallerLimit({f.begin() + 2, f.end()});
      if (!limit.ok()) return limit.status();
      policy.limits_[f[1]] = *limit;
      return absl::OkStatus();
    }
    if (f.size() != 2 || f[0].find('/') == std::string::npos) {
      return absl::InvalidArgumentError("want '<package.Service>/<Method> <ROLE>[,...]'");
    }
    std::set<std::string>& roles = policy.rules_[f[0]];
    for (absl::string_view role : absl::StrSplit(f[1], ',', absl::SkipEmpty())) {
      if (!IsRole(role)) return absl::InvalidArgumentError(absl::StrCat("unknown role ", role));
      roles.insert(std::string(role));
    }
    return absl::OkStatus();
  }));
  return policy;
}

absl::Status Policy::Check(absl::string_view method, absl::string_view role) const {
  absl::ConsumePrefix(&method, "/");
  auto it = rules_.find(std::string(method));
  if (it != rules_.end() && it->second.count(std::string(role))) return absl::OkStatus();
  return common::WithReason(
      absl::PermissionDeniedError(absl::StrCat("role ", role, " may not call ", method)),
      errors::v1::ROLE_NOT_ALLOWED);
}

const CallerLimit& Policy::LimitFor(absl::string_view role) const {
  static const CallerLimit kNone;
  auto it = limits_.find(std::string(role));
  if (it == limits_.end()) it = limits_.find("*");
  return it == limits_.end() ? kNone : it->second;
}

bool Policy::Mentions(absl::string_view method) const {
  absl::ConsumePrefix(&method, "/");
  return rules_.count(std::string(method)) > 0;
}

absl::StatusOr<std::string> AddKey(const std::string& keys_file, const std::string& principal_id,
                                   const std::string& role, int64_t rep_id) {
  if (!IsRole(role)) return absl::InvalidArgumentError(absl::StrCat("--role: unknown role ", role));
  if (principal_id.empty() || principal_id.size() > kMaxPrincipalIdBytes ||
      !std::all_of(principal_id.begin(), principal_id.end(),
                   [](char c) { return c > ' ' && c < 0x7f && c != '#'; })) {
    return absl::InvalidArgumentError(absl::StrCat("--id: required, at most ", kMaxPrincipalIdBytes,
                                                   " printable characters, no spaces or '#'"));
  }
  const std::string key = NewKey();
  std::ofstream out(keys_file, std::ios::app);
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", keys_file));
  out << Sha256Hex(key) << " " << principal_id << " " << role;
  if (rep_id != 0) out << " " << rep_id;
  out << "\n";
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", keys_file));
  return key;
}

}  // namespace funnel::gateway
