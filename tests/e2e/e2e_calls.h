#pragma once

// Reads and waits the end-to-end tests make through the gateway again and again.

#include <grpcpp/grpcpp.h>

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "funnel/gateway/v1/funnel_service.grpc.pb.h"
#include "funnel/marketing/v1/marketing_service.grpc.pb.h"
#include "gtest/gtest.h"

#define ASSERT_GRPC_OK(expr)                                     \
  do {                                                           \
    grpc::Status s_ = (expr);                                    \
    ASSERT_TRUE(s_.ok()) << #expr << ": " << s_.error_message(); \
  } while (0)

namespace funnel::testing {

// Polls `check` until it holds or `timeout` passes; whether it held.
inline bool WaitFor(const std::function<bool()>& check,
                    absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (check()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return check();
}

// The lead as marketing holds it; an empty lead when the call fails.
inline marketing::v1::Lead GetLead(marketing::v1::MarketingService::Stub& marketing,
                                   int64_t lead_id) {
  grpc::ClientContext ctx;
  marketing::v1::GetLeadRequest r;
  r.set_lead_id(lead_id);
  marketing::v1::Lead lead;
  (void)marketing.GetLead(&ctx, r, &lead);
  return lead;
}

// The campaign's metrics; a test failure when the call fails.
inline marketing::v1::CampaignMetrics CampaignMetrics(
    marketing::v1::MarketingService::Stub& marketing, int64_t campaign_id) {
  grpc::ClientContext ctx;
  marketing::v1::GetCampaignMetricsRequest r;
  r.set_campaign_id(campaign_id);
  marketing::v1::CampaignMetrics m;
  const grpc::Status s = marketing.GetCampaignMetrics(&ctx, r, &m);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return m;
}

// The funnel report of one campaign's leads (0: of all); a test failure when the
// call fails.
inline gateway::v1::FunnelReport FunnelReport(gateway::v1::FunnelService::Stub& views,
                                              int64_t campaign_id = 0) {
  grpc::ClientContext ctx;
  gateway::v1::GetFunnelReportRequest r;
  r.set_campaign_id(campaign_id);
  gateway::v1::FunnelReport report;
  const grpc::Status s = views.GetFunnelReport(&ctx, r, &report);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return report;
}

}  // namespace funnel::testing
