// marketing_service's methods in-process against MariaDB (service_target.h).
#include "fuzz/service_target.h"
#include "marketing_service/service_spec.h"

FUNNEL_SERVICE_FUZZER(funnel::marketing::MarketingServiceSpec, funnel::marketing::kServedServices)
