#pragma once

// SQL for the handoff inbox: leads received from marketing, and the decisions sales
// makes on them (each decision queues a HandoffDecision for marketing in the same
// transaction).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/group_commit.h"
#include "common/mysql/pool.h"
#include "common/request_key.h"
#include "funnel/handoff/v1/handoff.pb.h"
#include "funnel/sales/v1/sales_service.pb.h"
#include "handoff/wake.h"
#include "sales_service/account_rules.h"
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
  // Accepted handoffs of people without a company whose email is at one of
  // `personal_domains` get an account of their own (account_rules.h).
  InboxStore(common::ConnectionPool* pool, absl::Duration sla, std::function<void()> wake = nullptr,
             PersonalDomains personal_domains = PersonalDomains::BuiltIn())
      : pool_(pool),
        sla_(sla),
        wake_(std::move(wake)),
        personal_domains_(std::move(personal_domains)),
        submits_([this](const std::vector<Submission>& batch) { return SubmitMany(batch); },
                 kMaxSubmitBatch) {}

  // Records a handoff once and routes it (routing_store.h: the first matching
  // rule's pool, else the default queue); a repeat of the same handoff id returns the first
  // receipt with duplicate = true and changes nothing. Concurrent submissions (a
  // relay sends many at once) are group-committed: one transaction for the lot.
  absl::StatusOr<handoff::v1::SubmitLeadResponse> Submit(const handoff::v1::LeadHandoff& lead,
                                                         absl::Time now);
  // Erases everything that names the person from the lead's handoffs, contacts and
  // opportunities: personal fields, and all free text (activity notes and
  // outcomes, objections and resolutions, decision notes, next steps, loss notes);
  // opportunities are renamed after their account, an account named after the
  // person is renamed. Amounts, stages, times and enum reasons stay. Once per event
  // id (inbox_events.cc).
  absl::StatusOr<handoff::v1::EraseLeadResponse> Erase(const handoff::v1::LeadErasure& erasure);
  // Applies a consent change to every handoff and contact of the lead: an opt-out
  // withdraws the pending handoffs (they can no longer be accepted). Once per event
  // id (inbox_events.cc).
  absl::StatusOr<handoff::v1::UpdateConsentResponse> UpdateConsent(
      const handoff::v1::ConsentChange& change, absl::Time now);

  // Files the merged leads' handoffs, opportunities, contacts and feed events under
  // the survivor lead, merges the person's contacts into one (the survivor lead's
  // first), and remembers the merge so that anything arriving later for a merged
  // lead lands on the survivor. Once per event id (inbox_events.cc).
  absl::StatusOr<handoff::v1::MergeLeadResponse> MergeLead(const handoff::v1::LeadMerged& merge,
                                                           absl::Time now);

  // Handoffs on the overdue list at `now` (pending, unanswered, past the SLA).
  absl::StatusOr<int64_t> CountOverdue(absl::Time now);
  // Puts up to `limit` handoffs that are overdue at `now` and were not yet
  // announced on the change feed (handoff.overdue), each once across replicas;
  // returns how many.
  absl::StatusOr<int> AnnounceOverdue(absl::Time now, int limit);

  // Moves up to `limit` handoffs whose rep did not answer in time (escalate_at
  // passed, no first response) as their routing rule says: to the next free rep
  // of its pool or to the rep's manager, each move recorded; returns how many
  // moved. Each handoff is taken by one replica.
  absl::StatusOr<int> EscalateOverdue(absl::Time now, int limit);

  absl::StatusOr<v1::ListHandoffsResponse> List(const HandoffFilter& filter, int page_size,
                                                const std::string& page_token, absl::Time now);
  // NOT_FOUND for an unknown handoff.
  absl::StatusOr<v1::Handoff> Get(const std::string& handoff_id, absl::Time now);
  // NOT_FOUND for an unknown handoff or rep; FAILED_PRECONDITION when the handoff is
  // decided or withdrawn (HANDOFF_DECIDED) or the rep inactive (REP_INACTIVE);
  // PERMISSION_DENIED when the caller may not assign it.
  absl::StatusOr<v1::Handoff> Assign(const std::string& handoff_id, int64_t rep_id,
                                     const Caller& caller, const common::RequestKey& request_id,
                                     absl::Time now);
  // Creates or reuses the account (by company name) and contact (by email), opens a
  // MARKETING opportunity owned by the assigned rep (or the caller's rep). Accepting
  // an accepted handoff returns the same result. NOT_FOUND; FAILED_PRECONDITION for
  // a rejected or withdrawn handoff, or none assigned (HANDOFF_UNASSIGNED);
  // PERMISSION_DENIED for a rep it is not assigned to.
  absl::StatusOr<v1::AcceptHandoffResponse> Accept(const std::string& handoff_id,
                                                   const Caller& caller, const std::string& actor,
                                                   const common::RequestKey& request_id,
                                                   absl::Time now);
  // NOT_FOUND; FAILED_PRECONDITION for a decided or withdrawn handoff;
  // PERMISSION_DENIED for a rep it is not assigned to.
  absl::StatusOr<v1::Handoff> Reject(const std::string& handoff_id,
                                     handoff::v1::RejectionReason reason, const std::string& note,
                                     const Caller& caller, const common::RequestKey& request_id,
                                     absl::Time now);

 private:
  template <typename T>
  T Woken(T result) {
    return handoff::WakeIfOk(std::move(result), wake_);
  }

  struct Submission {
    handoff::v1::LeadHandoff lead;
    absl::Time now;
  };
  using Receipt = absl::StatusOr<handoff::v1::SubmitLeadResponse>;
  // Submissions in one transaction, as if one after the other; a result each. If
  // the batch fails for a reason other than the database being away, each is
  // tried alone, so one bad submission cannot fail the others.
  std::vector<Receipt> SubmitMany(const std::vector<Submission>& batch);

  // Submissions per group commit (a relay sends at most 64 at once).
  static constexpr size_t kMaxSubmitBatch = 64;

  common::ConnectionPool* const pool_;
  const absl::Duration sla_;
  const std::function<void()> wake_;
  const PersonalDomains personal_domains_;
  common::GroupCommit<Submission, Receipt> submits_;
};

// The lead that stands for `lead_id`: its survivor when marketing merged it away
// (MergeLead), else itself. In the caller's transaction.
int64_t CurrentLeadId(sql::Connection& conn, int64_t lead_id);

}  // namespace funnel::sales
