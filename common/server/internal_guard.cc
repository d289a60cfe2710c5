#include "common/server/internal_guard.h"

#include <openssl/crypto.h>

#include "common/request_limits.h"
#include "common/status.h"

namespace funnel::common {

absl::Status InternalGuard::Check(const grpc::ServerContextBase& context) const {
  if (secret_.empty()) return absl::OkStatus();
  auto it = context.client_metadata().find(kInternalHeader);
  if (it != context.client_metadata().end() && it->second.size() == secret_.size() &&
      CRYPTO_memcmp(it->second.data(), secret_.data(), secret_.size()) == 0) {
    return absl::OkStatus();
  }
  return WithReason(absl::UnauthenticatedError("call the gateway: this service accepts calls only "
                                               "from it (missing internal credential)"),
                    errors::v1::NOT_THROUGH_GATEWAY);
}

absl::Status InternalGuard::Check(const grpc::ServerContextBase& context,
                                  const google::protobuf::Message& request) const {
  if (absl::Status s = Check(context); !s.ok()) return s;
  return CheckRequestSizes(request);
}

const InternalGuard* OpenGuard() {
  static const InternalGuard* const kOpen = new InternalGuard("");
  return kOpen;
}

}  // namespace funnel::common
