#pragma once

// SQL for marketing's leads, their touchpoints and audit history, and the handoff
// events qualification and erasure write. Every change to a lead runs in one
// transaction with its touchpoint, history entries and outbox event, and calls the
// pure rules (scoring.h, lifecycle.h, lead_rules.h) for every decision. Captures
// are in lead_capture.cc, changes to one lead in lead_changes.cc (both made of
// lead_steps.h), reads in lead_queries.cc, consent in lead_consent.cc.
//
// Besides the errors of every store (common/mysql/pool.h), each method names its
// own. A change to an erased lead is FAILED_PRECONDITION (PERSON_ERASED).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/group_commit.h"
#include "common/mysql/pool.h"
#include "common/request_id.h"
#include "common/request_key.h"
#include "funnel/marketing/v1/marketing_service.pb.h"
#include "handoff/wake.h"

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

// One capture: the request (with a normalised email), who made it, and when.
struct CaptureItem {
  v1::CaptureLeadRequest request;
  std::string actor;
  absl::Time now;
  // The call's request id: a handoff this capture causes carries it, though a
  // batch is written on another caller's thread.
  std::string request_id = common::CurrentRequestId();
};

class LeadStore final {
 public:
  // `wake` runs after a commit that wrote an outbox event.
  explicit LeadStore(common::ConnectionPool* pool, std::function<void()> wake = nullptr)
      : pool_(pool),
        wake_(std::move(wake)),
        captures_([this](const std::vector<CaptureItem>& items) { return CaptureMany(items); },
                  kMaxCaptureBatch) {}

  // `request` has a normalised email. Creates the lead or merges into the one with
  // that email (filling only empty fields), records the touchpoint, re-scores, and
  // qualifies it when it becomes hot. NOT_FOUND for an unknown campaign. Concurrent
  // captures are group-committed: written together in one transaction.
  absl::StatusOr<v1::CaptureLeadResponse> Capture(const v1::CaptureLeadRequest& request,
                                                  const std::string& actor, absl::Time now);

  // Captures in one transaction, as if one after the other in this order (a later
  // item with an earlier item's email merges into the lead it made): a result per
  // item. Every stored lead is locked and read once and written once, every new one
  // inserted once with its final values, history and touchpoints with one multi-row
  // statement each. A database failure fails every item (none is committed).
  std::vector<absl::StatusOr<v1::CaptureLeadResponse>> CaptureMany(
      const std::vector<CaptureItem>& items);

  // NOT_FOUND if no lead has this id. A merged-away id answers its survivor, with
  // merged_into_lead_id set.
  absl::StatusOr<v1::Lead> FindLead(int64_t lead_id);

  absl::StatusOr<v1::ListLeadsResponse> ListLeads(const LeadFilter& filter, int page_size,
                                                  const std::string& page_token);

  // Pairs of leads that are likely one person (duplicates.h), with `lead_id` only
  // when it is not 0 (lead_duplicates.cc). Groups every lead by phone, name and
  // company, and email local part: a scan of the table, not an index lookup.
  absl::StatusOr<v1::ListDuplicateLeadsResponse> ListDuplicates(int64_t lead_id, int page_size,
                                                                const std::string& page_token);

  // Merges leads of one person into `survivor_id` (lead_merge.cc; what moves and
  // what the survivor keeps is MarketingService.MergeLeads' comment). Ids are
  // validated by the caller: each once, none the survivor. NOT_FOUND naming the
  // field for an unknown lead; FAILED_PRECONDITION for an erased lead
  // (PERSON_ERASED) or one already merged away.
  absl::StatusOr<v1::Lead> MergeLeads(int64_t survivor_id,
                                      const std::vector<int64_t>& duplicate_ids,
                                      const common::RequestKey& request_id,
                                      const std::string& actor, absl::Time now);

  // Applies `paths` of `lead` (validated by the caller). NOT_FOUND for an unknown
  // lead; ABORTED on a stale etag; FAILED_PRECONDITION for a consent change only
  // ResubscribeLead may make (OPTED_OUT).
  absl::StatusOr<v1::Lead> UpdateLead(const v1::Lead& lead, const std::vector<std::string>& paths,
                                      const common::RequestKey& request_id,
                                      const std::string& actor, absl::Time now);

  // Manual qualification. NOT_FOUND for an unknown lead; FAILED_PRECONDITION when
  // the lead may not be qualified (lifecycle.h's CheckQualifiable).
  absl::StatusOr<v1::Lead> Qualify(int64_t lead_id, const std::string& note,
                                   const common::RequestKey& request_id, const std::string& actor,
                                   absl::Time now);

  // NOT_FOUND when no lead has this (normalised) email. (lead_consent.cc)
  absl::StatusOr<v1::UnsubscribeResponse> Unsubscribe(const std::string& email,
                                                      const common::RequestKey& request_id,
                                                      const std::string& actor);
  // Consent given again at `consent_time`, from `source` (lead_consent.cc).
  // NOT_FOUND for an unknown lead, FAILED_PRECONDITION for an erased one; a lead
  // already opted in is answered as it is.
  absl::StatusOr<v1::Lead> Resubscribe(int64_t lead_id, const std::string& source,
                                       absl::Time consent_time,
                                       const common::RequestKey& request_id,
                                       const std::string& actor, absl::Time now);

  // Removes personal data for good, scrubs it from queued handoff events and queues
  // a LeadErasure for sales. NOT_FOUND for an unknown lead; FAILED_PRECONDITION for
  // one already erased.
  absl::StatusOr<v1::EraseLeadResponse> Erase(int64_t lead_id, const common::RequestKey& request_id,
                                              const std::string& actor, absl::Time now);

  // `key`: the request's idempotency key (common::KeyOf); none when empty.
  // NOT_FOUND naming the field for an unknown lead or campaign.
  absl::StatusOr<v1::RecordTouchpointResponse> RecordTouchpoint(
      const v1::RecordTouchpointRequest& request, const std::string& actor, absl::Time now,
      const common::RequestKey& key = {});

  // NOT_FOUND for an unknown lead (ListHistory alike).
  absl::StatusOr<v1::ListTouchpointsResponse> ListTouchpoints(int64_t lead_id, int page_size,
                                                              const std::string& page_token);

  absl::StatusOr<v1::ListLeadHistoryResponse> ListHistory(int64_t lead_id, int page_size,
                                                          const std::string& page_token);

  // Re-scores every lead under the policy in force, decayed to `now`, qualifying
  // those that become hot. Works in batches of one transaction each.
  absl::StatusOr<v1::RescoreLeadsResponse> RescoreAll(const common::RequestKey& request_id,
                                                      const std::string& actor, absl::Time now);

  // NOT_FOUND for an unknown lead.
  absl::StatusOr<v1::HandoffStatus> GetHandoffStatus(int64_t lead_id);
  absl::StatusOr<handoff::v1::RelayStats> GetRelayStats(absl::Time now);

 private:
  template <typename T>
  T Woken(T result) {
    return handoff::WakeIfOk(std::move(result), wake_);
  }

  // Captures per group commit: a batch's statements stay small, and a waiter's
  // extra latency stays one short transaction.
  static constexpr size_t kMaxCaptureBatch = 64;

  common::ConnectionPool* const pool_;
  const std::function<void()> wake_;
  common::GroupCommit<CaptureItem, absl::StatusOr<v1::CaptureLeadResponse>> captures_;
};

}  // namespace funnel::marketing
