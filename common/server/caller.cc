#include "common/server/caller.h"

#include "common/request_id.h"
#include "common/server/request_log.h"

namespace funnel::common {

std::string CallerId(const grpc::ServerContextBase& context) {
  auto it = context.client_metadata().find(kPrincipalIdHeader);
  if (it == context.client_metadata().end() || it->second.empty()) return "anonymous";
  return std::string(it->second.data(), it->second.size());
}

std::string RequestIdOf(const grpc::ServerContextBase& context) {
  auto it = context.client_metadata().find(kRequestIdHeader);
  if (it == context.client_metadata().end()) return "";
  absl::string_view id(it->second.data(), it->second.size());
  return IsWellFormedRequestId(id) ? std::string(id) : "";
}

}  // namespace funnel::common
