#pragma once

// What sales_service runs: its migrations, its services and their stores (with
// the SLA and personal-domain flags). main() runs it; the fuzz targets install the
// same services in-process.

#include "handoff/service_main.h"

namespace funnel::sales {

// The public services install() registers.
inline constexpr const char* kServedServices[] = {"funnel.sales.v1.SalesService",
                                                  "funnel.handoff.v1.HandoffInboxService"};

handoff::DbServiceSpec SalesServiceSpec();

}  // namespace funnel::sales
