// The gateway's keys and policy files (gateway/auth.h): any text parses or is
// refused naming its line, and a policy that parses grants exactly what it lists.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz/fail.h"
#include "gateway/auth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  using funnel::gateway::IsRole;
  const auto keys = funnel::gateway::ParseKeys(text);
  if (keys.ok()) {
    for (const auto& [hash, principal] : *keys) {
      if (!IsRole(principal.role) || principal.id.empty() ||
          principal.id.size() > funnel::gateway::kMaxPrincipalIdBytes || principal.rep_id < 0) {
        funnel::fuzz::Broken(
            "a key names a known role, a short id and a rep id >= 0", text,
            principal.id + " " + principal.role + " " + std::to_string(principal.rep_id));
      }
    }
  } else if (keys.status().code() != absl::StatusCode::kInvalidArgument) {
    funnel::fuzz::Broken("a bad keys file is INVALID_ARGUMENT", text, keys.status().ToString());
  }

  const auto policy = funnel::gateway::Policy::Parse(text);
  if (!policy.ok()) {
    if (policy.status().code() != absl::StatusCode::kInvalidArgument) {
      funnel::fuzz::Broken("a bad policy is INVALID_ARGUMENT", text, policy.status().ToString());
    }
    return 0;
  }
  for (const auto& [method, roles] : policy->rules()) {
    const std::string path = "/" + method;
    for (const char* role : funnel::gateway::kRoles) {
      const bool granted = policy->Check(path, role).ok();
      if (granted != (roles.count(role) > 0)) {
        funnel::fuzz::Broken("a policy grants exactly what it lists", text, path + " " + role);
      }
    }
    if (!policy->Mentions(path)) funnel::fuzz::Broken("a policy mentions its methods", text, path);
  }
  for (const char* role : funnel::gateway::kRoles) (void)policy->LimitFor(role);
  return 0;
}
