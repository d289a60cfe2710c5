// sales_service's methods in-process against MariaDB (service_target.h).
#include "fuzz/service_target.h"
#include "sales_service/service_spec.h"

FUNNEL_SERVICE_FUZZER(funnel::sales::SalesServiceSpec, funnel::sales::kServedServices)
