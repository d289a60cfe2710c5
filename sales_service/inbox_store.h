#pragma once

// SQL for the handoff inbox: leads received from marketing, and the decisions sales
// makes on them (each decision queues a HandoffDecision for marketing in the same
// transaction).

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mysql/pool.h"
#include "common/wake.h"
#include "funnel/handoff/v1/handoff.pb.h"
#include "funnel/sales/v1/sales_service.pb.h"
#include "sales_service/pipeline.h"

namespace funnel::sales {

struct HandoffFilter {
  v1::HandoffState state = v1::HANDOFF_STATE_UNSPECIFIED;
  int64_t assigned_rep_id = 0;
  bool overdue_only = false;
  int64_t lead_id = 0;
};

class InboxStore final {
 public:
  // `wake` runs after a commit that wrote an outbox event (a decision).
  InboxStore(common::ConnectionPool* pool, absl::Duration sla, std::function<void()> wake = nullptr)
      : pool_(pool), sla_(sla), wake_(std::move(wake)) {}

  // Records a handoff once; a repeat of the same handoff id returns the first
  // receipt with duplicate = true and changes nothing.
  absl::StatusOr<handoff::v1::SubmitLeadResponse> Submit(const handoff::v1::LeadHandoff& lead,
                                                         absl::Time now);
  // Erases the person's data from every handoff and contact of the lead, once per
  // event id.
  absl::StatusOr<handoff::v1::EraseLeadResponse> Erase(const handoff::v1::LeadErasure& erasure);

  absl::StatusOr<v1::ListHandoffsResponse> List(const HandoffFilter& filter, int page_size,
                                                const std::string& page_token, absl::Time now);
  absl::StatusOr<v1::Handoff> Get(const std::string& handoff_id, absl::Time now);
  absl::StatusOr<v1::Handoff> Assign(const std::string& handoff_id, int64_t rep_id,
                                     const Caller& caller, const std::string& request_id,
                                     absl::Time now);
  // Creates or reuses the account (by company name) and contact (by email), opens a
  // MARKETING opportunity owned by the assigned rep (or the caller's rep). Accepting
  // an accepted handoff returns the same result.
  absl::StatusOr<v1::AcceptHandoffResponse> Accept(const std::string& handoff_id,
                                                   const Caller& caller, const std::string& actor,
                                                   const std::string& request_id, absl::Time now);
  absl::StatusOr<v1::Handoff> Reject(const std::string& handoff_id,
                                     handoff::v1::RejectionReason reason, const std::string& note,
                                     const Caller& caller, const std::string& request_id,
                                     absl::Time now);

 private:
  template <typename T>
  T Woken(T result) {
    return common::WakeIfOk(std::move(result), wake_);
  }

  common::ConnectionPool* const pool_;
  const absl::Duration sla_;
  const std::function<void()> wake_;
};

}  // namespace funnel::sales
