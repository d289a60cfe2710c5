// Exactly-once handoff under crashes (tests/e2e/handoff_fault_scenario.h), the short
// form; FUNNEL_FAULT_LEADS=20000 for the long form.

#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/e2e/handoff_fault_scenario.h"

namespace funnel {
namespace {

int LeadCount() {
  const char* n = std::getenv("FUNNEL_FAULT_LEADS");
  return n ? std::atoi(n) : 1000;
}

TEST(HandoffFaultTest, NoLeadLostOrDuplicatedWhateverCrashes) {
  testing::FunnelStack stack("fault");
  testing::RunHandoffFaultScenario(stack, LeadCount());
}

}  // namespace
}  // namespace funnel
