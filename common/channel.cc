#include "common/channel.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/limits.h"

namespace funnel::common {
namespace {
constexpr int kInternalStreamWindowBytes = 1 << 20;
}  // namespace

std::string ChannelTarget(const std::string& address) {
  if (absl::StrContains(address, ":///") || !absl::StrContains(address, ",")) return address;
  return absl::StrCat("ipv4:", address);
}

std::shared_ptr<grpc::Channel> InternalChannel(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials,
    std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
        interceptors) {
  grpc::ChannelArguments args;
  ApplyChannelLimits(args);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // A fixed receive window per stream instead of one that grows with the measured
  // bandwidth-delay product (on loopback, to many megabytes): what a stream whose
  // reader stopped (a change-feed watcher through the gateway) can hold here is
  // bounded by it, and the sender feels the stop. Inside a data centre a megabyte
  // per round trip is more than any Funnel message needs.
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, kInternalStreamWindowBytes);
  args.SetServiceConfigJSON(R"json({
    "loadBalancingConfig": [{"round_robin": {}}],
    "healthCheckConfig": {"serviceName": ""}
  })json");
  if (interceptors.empty()) {
    return grpc::CreateCustomChannel(ChannelTarget(address), credentials, args);
  }
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      ChannelTarget(address), credentials, args, std::move(interceptors));
}

}  // namespace funnel::common
