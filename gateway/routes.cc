#include "gateway/routes.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "funnel/handoff/v1/handoff.pb.h"
#include "funnel/marketing/v1/marketing_service.pb.h"
#include "funnel/sales/v1/sales_service.pb.h"

namespace funnel::gateway {

const char* BackendName(Backend backend) {
  return backend == Backend::kMarketing ? "marketing_service" : "sales_service";
}

const std::vector<ForwardedService>& ForwardedServices() {
  // Touching one message of each file links its descriptors into the gateway
  // binary, which never calls the forwarded services' generated code otherwise.
  static const bool linked = marketing::v1::Lead::descriptor() != nullptr &&
                             sales::v1::Rep::descriptor() != nullptr &&
                             handoff::v1::LeadHandoff::descriptor() != nullptr;
  (void)linked;
  static const auto* const kServices = new std::vector<ForwardedService>{
      {"funnel.marketing.v1.MarketingService", Backend::kMarketing},
      {"funnel.handoff.v1.HandoffFeedbackService", Backend::kMarketing},
      {"funnel.sales.v1.SalesService", Backend::kSales},
      {"funnel.handoff.v1.HandoffInboxService", Backend::kSales},
  };
  return *kServices;
}

std::vector<std::string> ServicesOf(Backend backend) {
  std::vector<std::string> names;
  for (const ForwardedService& s : ForwardedServices()) {
    if (s.backend == backend) names.push_back(s.full_name);
  }
  return names;
}

absl::StatusOr<Route> RouteFor(absl::string_view path) {
  absl::string_view rest = path;
  absl::ConsumePrefix(&rest, "/");
  const size_t slash = rest.find('/');
  if (slash != absl::string_view::npos) {
    const std::string service_name(rest.substr(0, slash));
    for (const ForwardedService& s : ForwardedServices()) {
      if (service_name != s.full_name) continue;
      const auto* service =
          google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_name);
      const auto* method = service == nullptr
                               ? nullptr
                               : service->FindMethodByName(std::string(rest.substr(slash + 1)));
      if (method != nullptr) return Route{s.backend, method};
    }
  }
  return absl::UnimplementedError(absl::StrCat("unknown method ", path));
}

}  // namespace funnel::gateway
