#pragma once

// What marketing_service runs: its migrations, its services and their stores, and
// what it does when sales acknowledges an event. main() runs it; the fuzz targets
// install the same services in-process.

#include "handoff/service_main.h"

namespace funnel::marketing {

// The public services install() registers.
inline constexpr const char* kServedServices[] = {"funnel.marketing.v1.MarketingService",
                                                  "funnel.handoff.v1.HandoffFeedbackService"};

handoff::DbServiceSpec MarketingServiceSpec();

}  // namespace funnel::marketing
