#pragma once

// SQL for opportunities, their stage history and objections, closing and reopening
// (with the DealOutcome revision for marketing in the same transaction), and
// activities (activity_store.cc). Writes follow the row rules (pipeline.h's
// CheckCanChange: a rep changes their own, a manager their team's): PERMISSION_DENIED
// otherwise.
//
// Besides the errors of every store (common/mysql/pool.h), each method names its own.

#include <cppconn/connection.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mysql/pool.h"
#include "common/request_key.h"
#include "funnel/sales/v1/sales_service.pb.h"
#include "sales_service/pipeline.h"

namespace funnel::sales {

struct OpportunityFilter {
  int64_t owner_rep_id = 0;
  v1::Stage stage = v1::STAGE_UNSPECIFIED;
  v1::OpportunityStatus status = v1::OPPORTUNITY_STATUS_UNSPECIFIED;
  v1::Source source = v1::SOURCE_UNSPECIFIED;
};

class OpportunityStore final {
 public:
  // `wake` runs after a commit that wrote an outbox event (a deal outcome).
  explicit OpportunityStore(common::ConnectionPool* pool, std::function<void()> wake = nullptr)
      : pool_(pool), wake_(std::move(wake)) {}

  // `opportunity` is validated. NOT_FOUND naming the field for an unknown owner,
  // account or contact; INVALID_ARGUMENT for a stage it may not be created in.
  absl::StatusOr<v1::Opportunity> Create(const v1::Opportunity& opportunity, const Caller& caller,
                                         const std::string& actor,
                                         const common::RequestKey& request_id, absl::Time now);
  // NOT_FOUND for an unknown opportunity.
  absl::StatusOr<v1::Opportunity> Get(int64_t opportunity_id);
  absl::StatusOr<v1::ListOpportunitiesResponse> List(const OpportunityFilter& filter, int page_size,
                                                     const std::string& page_token);
  // Applies `paths`. NOT_FOUND for an unknown opportunity (or new owner, contact);
  // ABORTED on a stale etag; FAILED_PRECONDITION for a closed one
  // (OPPORTUNITY_CLOSED); PERMISSION_DENIED for a change of owner the caller may not
  // make; INVALID_ARGUMENT for a path that cannot change this way.
  absl::StatusOr<v1::Opportunity> Update(const v1::Opportunity& opportunity,
                                         const std::vector<std::string>& paths,
                                         const Caller& caller, const common::RequestKey& request_id,
                                         absl::Time now);
  // NOT_FOUND; ABORTED on a stale etag; FAILED_PRECONDITION for a move the stage
  // machine forbids (pipeline.h's CheckStageMove).
  absl::StatusOr<v1::Opportunity> MoveStage(int64_t opportunity_id, v1::Stage stage,
                                            const std::string& etag, const Caller& caller,
                                            const std::string& actor,
                                            const common::RequestKey& request_id, absl::Time now);
  // NOT_FOUND for an unknown opportunity.
  absl::StatusOr<v1::ListStageChangesResponse> ListStageChanges(int64_t opportunity_id,
                                                                int page_size,
                                                                const std::string& page_token);
  // NOT_FOUND for an unknown opportunity.
  absl::StatusOr<v1::Objection> AddObjection(int64_t opportunity_id, const std::string& text,
                                             const Caller& caller, const std::string& actor,
                                             const common::RequestKey& request_id, absl::Time now);
  // NOT_FOUND for an unknown objection; FAILED_PRECONDITION (OBJECTION_RESOLVED)
  // for one already resolved.
  absl::StatusOr<v1::Objection> ResolveObjection(int64_t objection_id,
                                                 const std::string& resolution,
                                                 const Caller& caller,
                                                 const common::RequestKey& request_id,
                                                 absl::Time now);
  // NOT_FOUND for an unknown opportunity.
  absl::StatusOr<v1::ListObjectionsResponse> ListObjections(int64_t opportunity_id, int page_size,
                                                            const std::string& page_token);
  // `key`: the request's idempotency key (common::KeyOf); none when empty.
  // NOT_FOUND; ABORTED on a stale etag; FAILED_PRECONDITION for a close the stage
  // machine forbids; INVALID_ARGUMENT for an outcome without what it needs.
  absl::StatusOr<v1::Opportunity> Close(const v1::CloseOpportunityRequest& request,
                                        const Caller& caller, const std::string& actor,
                                        absl::Time now, const common::RequestKey& key = {});

  // `activity` is validated. The first activity on a handoff stops its SLA clock.
  // NOT_FOUND naming the field for an unknown opportunity, handoff, contact or rep;
  // INVALID_ARGUMENT "activity.occur_time: ..." before the handoff arrived or in the
  // future (sla.h).
  absl::StatusOr<v1::Activity> LogActivity(const v1::Activity& activity, const Caller& caller,
                                           const common::RequestKey& request_id, absl::Time now);
  absl::StatusOr<v1::ListActivitiesResponse> ListActivities(const v1::ListActivitiesRequest& filter,
                                                            int page_size);

 private:
  common::ConnectionPool* const pool_;
  const std::function<void()> wake_;
};

// In a caller's transaction: inserts `opportunity` at its stage, records the first
// stage change, and returns it as stored. `campaign_id`: the campaign that first
// touched the lead (marketing-sourced), else 0.
v1::Opportunity InsertOpportunity(sql::Connection& conn, const v1::Opportunity& opportunity,
                                  const std::string& actor, absl::Time now,
                                  int64_t campaign_id = 0);
// Reads one opportunity (locking it with `for_update`); NOT_FOUND when missing.
absl::StatusOr<v1::Opportunity> ReadOpportunity(sql::Connection& conn, int64_t opportunity_id,
                                                bool for_update);
// The rep's manager (0 for none or an unknown rep), for the row rules.
int64_t ManagerOf(sql::Connection& conn, int64_t rep_id);
// The row rule for a write on `o`: its owner and the owner's manager (CheckCanChange).
absl::Status CheckOwner(sql::Connection& conn, const Caller& caller, const v1::Opportunity& o);

}  // namespace funnel::sales
