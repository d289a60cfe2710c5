#pragma once

// SQL for marketing's leads, their touchpoints and audit history, and the handoff
// events qualification and erasure write. Every change to a lead runs in one
// transaction with its touchpoint, history entries and outbox event, and calls the
// pure rules (scoring.h, lifecycle.h) for every decision.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mysql/pool.h"
#include "common/wake.h"
#include "funnel/marketing/v1/marketing_service.pb.h"

namespace funnel::marketing {

// Filters of a lead listing; zero values mean "any".
struct LeadFilter {
  handoff::v1::Temperature temperature = handoff::v1::TEMPERATURE_UNSPECIFIED;
  v1::LeadStage stage = v1::LEAD_STAGE_UNSPECIFIED;
  int64_t campaign_id = 0;
  std::optional<v1::SegmentCriteria> segment;
  bool exclude_erased = false;
  // Normalised email; empty for any.
  std::string email;
  v1::LeadOrder order = v1::LEAD_ORDER_NEWEST_FIRST;
  // Identifies the filter in page tokens.
  std::string scope;
};

class LeadStore final {
 public:
  // `wake` runs after a commit that may have written an outbox event.
  explicit LeadStore(common::ConnectionPool* pool, std::function<void()> wake = nullptr)
      : pool_(pool), wake_(std::move(wake)) {}

  // `request` has a normalised email. Creates the lead or merges into the one with
  // that email (filling only empty fields), records the touchpoint, re-scores, and
  // qualifies it when it becomes hot. NOT_FOUND for an unknown campaign.
  absl::StatusOr<v1::CaptureLeadResponse> Capture(const v1::CaptureLeadRequest& request,
                                                  const std::string& actor, absl::Time now);

  // NOT_FOUND if no lead has this id.
  absl::StatusOr<v1::Lead> FindLead(int64_t lead_id);

  absl::StatusOr<v1::ListLeadsResponse> ListLeads(const LeadFilter& filter, int page_size,
                                                  const std::string& page_token);

  // Applies `paths` of `lead` (validated by the caller). ABORTED on a stale etag.
  absl::StatusOr<v1::Lead> UpdateLead(const v1::Lead& lead, const std::vector<std::string>& paths,
                                      const std::string& request_id, const std::string& actor,
                                      absl::Time now);

  // Manual qualification. FAILED_PRECONDITION when the lead may not be qualified.
  absl::StatusOr<v1::Lead> Qualify(int64_t lead_id, const std::string& note,
                                   const std::string& request_id, const std::string& actor,
                                   absl::Time now);

  // NOT_FOUND when no lead has this (normalised) email.
  absl::StatusOr<v1::UnsubscribeResponse> Unsubscribe(const std::string& email,
                                                      const std::string& request_id,
                                                      const std::string& actor);

  // Removes personal data for good, scrubs it from queued handoff events and queues
  // a LeadErasure for sales.
  absl::StatusOr<v1::EraseLeadResponse> Erase(int64_t lead_id, const std::string& request_id,
                                              const std::string& actor, absl::Time now);

  absl::StatusOr<v1::RecordTouchpointResponse> RecordTouchpoint(
      const v1::RecordTouchpointRequest& request, const std::string& actor, absl::Time now);

  absl::StatusOr<v1::ListTouchpointsResponse> ListTouchpoints(int64_t lead_id, int page_size,
                                                              const std::string& page_token);

  absl::StatusOr<v1::ListLeadHistoryResponse> ListHistory(int64_t lead_id, int page_size,
                                                          const std::string& page_token);

  // Re-scores every lead under the policy in force, decayed to `now`, qualifying
  // those that become hot. Works in batches of one transaction each.
  absl::StatusOr<v1::RescoreLeadsResponse> RescoreAll(const std::string& request_id,
                                                      const std::string& actor, absl::Time now);

  absl::StatusOr<v1::HandoffStatus> GetHandoffStatus(int64_t lead_id);
  absl::StatusOr<v1::RelayStats> GetRelayStats(absl::Time now);

 private:
  template <typename T>
  T Woken(T result) {
    return common::WakeIfOk(std::move(result), wake_);
  }

  common::ConnectionPool* const pool_;
  const std::function<void()> wake_;
};

}  // namespace funnel::marketing
