// marketing_service: owns funnel_marketing and serves funnel.marketing.v1.
#include "handoff/service_main.h"
#include "marketing_service/service_spec.h"

int main(int argc, char** argv) {
  return funnel::handoff::RunDbService(argc, argv, funnel::marketing::MarketingServiceSpec());
}
