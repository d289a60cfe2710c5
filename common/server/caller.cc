#include "common/server/caller.h"

#include "common/server/request_log.h"

namespace funnel::common {

std::string CallerId(const grpc::ServerContextBase& context) {
  auto it = context.client_metadata().find(kPrincipalIdHeader);
  if (it == context.client_metadata().end() || it->second.empty()) return "anonymous";
  return std::string(it->second.data(), it->second.size());
}

}  // namespace funnel::common
