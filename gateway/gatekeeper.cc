#include "gateway/gatekeeper.h"

#include "absl/strings/str_cat.h"
#include "common/server/internal_guard.h"
#include "common/server/principal.h"
#include "common/server/request_log.h"
#include "common/status.h"

namespace funnel::gateway {

absl::StatusOr<Principal> Gatekeeper::Admit(const grpc::ServerContextBase& context,
                                            absl::string_view method) const {
  const auto& md = context.client_metadata();
  auto auth = md.find("authorization");
  ASSIGN_OR_RETURN(Principal principal,
                   keys_->Authenticate(auth == md.end() ? absl::string_view()
                                                        : absl::string_view(auth->second.data(),
                                                                            auth->second.size())));
  RETURN_IF_ERROR(policy_->Check(method, principal.role));
  return principal;
}

void Gatekeeper::Stamp(const Principal& principal, grpc::ClientContext* backend) const {
  backend->AddMetadata(common::kPrincipalIdHeader, principal.id);
  backend->AddMetadata(common::kRoleHeader, principal.role);
  if (principal.rep_id != 0) backend->AddMetadata(common::kRepIdHeader, absl::StrCat(principal.rep_id));
  if (!internal_secret_.empty()) backend->AddMetadata(common::kInternalHeader, internal_secret_);
}

}  // namespace funnel::gateway
