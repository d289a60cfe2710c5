// marketing_service's methods in-process against MariaDB (service_target.h).
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/service_target.h"
#include "marketing_service/service_spec.h"

namespace {

std::vector<std::string> Served() {
  return {std::begin(funnel::marketing::kServedServices),
          std::end(funnel::marketing::kServedServices)};
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  funnel::fuzz::MaybeWriteSeeds(funnel::fuzz::MethodsOf(Served()));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* const target =
      new funnel::fuzz::ServiceTarget(funnel::marketing::MarketingServiceSpec(), Served());
  target->Run(data, size);
  return 0;
}
