#include "common/server/principal.h"

#include "absl/strings/numbers.h"
#include "common/server/caller.h"

namespace funnel::common {

Principal PrincipalOf(const grpc::ServerContextBase& context) {
  Principal p;
  p.id = CallerId(context);
  const auto& md = context.client_metadata();
  if (auto it = md.find(kRoleHeader); it != md.end())
    p.role.assign(it->second.data(), it->second.size());
  if (auto it = md.find(kRepIdHeader); it != md.end()) {
    int64_t rep = 0;
    if (absl::SimpleAtoi(absl::string_view(it->second.data(), it->second.size()), &rep))
      p.rep_id = rep;
  }
  return p;
}

RequestKey KeyOf(const grpc::ServerContextBase& context, const google::protobuf::Message& request) {
  RequestKey key;
  if (const auto* field = request.GetDescriptor()->FindFieldByName("request_id")) {
    key.request_id = request.GetReflection()->GetString(request, field);
  }
  if (key.empty()) return key;  // nothing to replay: no fingerprint to compute
  key.principal = CallerId(context);
  key.fingerprint = RequestFingerprint(request);
  return key;
}

}  // namespace funnel::common
