// sales_service: owns funnel_sales and serves funnel.sales.v1 and the handoff inbox.
#include "handoff/service_main.h"
#include "sales_service/service_spec.h"

int main(int argc, char** argv) {
  return funnel::handoff::RunDbService(argc, argv, funnel::sales::SalesServiceSpec());
}
