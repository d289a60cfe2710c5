#pragma once

// Which backend owns which method. Built from the generated descriptors, so a method
// added to a proto is routed without touching this file.

#include <google/protobuf/descriptor.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace funnel::gateway {

enum class Backend { kMarketing, kSales };

const char* BackendName(Backend backend);

struct Route {
  Backend backend;
  const google::protobuf::MethodDescriptor* method;
};

// Services the gateway forwards, with their owners: marketing serves
// MarketingService and HandoffFeedbackService; sales serves SalesService and
// HandoffInboxService.
struct ForwardedService {
  const char* full_name;
  Backend backend;
};
const std::vector<ForwardedService>& ForwardedServices();

// Names of forwarded services owned by `backend`.
std::vector<std::string> ServicesOf(Backend backend);

// Routes a gRPC path ("/funnel.sales.v1.SalesService/GetRep"). UNIMPLEMENTED for a
// path that names no forwarded method. (FunnelService is served by the gateway's own
// handler, never routed.)
absl::StatusOr<Route> RouteFor(absl::string_view path);

}  // namespace funnel::gateway
