#pragma once

// Writes the rows of one ImportLeads stream in batches, on two lanes at once.
//
// A row's lane follows from its email, so every row of one person goes through one
// lane in stream order and lands as if the rows were written one after the other
// (a later row merges into the lead an earlier one created). Rows of different
// people do not depend on each other, and the counters they move add up the same in
// any order, so the two lanes' transactions may interleave; each lane writes while
// the stream goes on being read.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "funnel/marketing/v1/marketing_service.pb.h"
#include "marketing_service/leads/lead_store.h"

namespace funnel::marketing {

// Rows per ImportLeads transaction.
inline constexpr size_t kImportBatch = 500;
// Rejected rows an import's answer lists (the first ones); the rest are counted.
inline constexpr int kMaxListedRowErrors = 1000;

// Counts a rejected row into an import's summary.
void AddRowError(int64_t row, const absl::Status& status, v1::ImportLeadsResponse* summary);

class ImportWriter final {
 public:
  using Results = std::vector<absl::StatusOr<v1::CaptureLeadResponse>>;
  // Writes one batch in one transaction (LeadStore::CaptureMany).
  using WriteBatch = std::function<Results(const std::vector<CaptureItem>&)>;

  // Counts what the writes did into `summary` (created, merged, row errors).
  ImportWriter(WriteBatch write, size_t batch_size, v1::ImportLeadsResponse* summary)
      : write_(std::move(write)), batch_size_(batch_size), summary_(summary) {}
  ~ImportWriter();  // waits for writes in flight

  // Adds the row at 1-based stream position `row`. An error means the database
  // failed: the import stops (what committed is counted in the summary).
  absl::Status Add(int64_t row, CaptureItem item);
  // Writes what is left, waits for every lane and puts the row errors in row order.
  absl::Status Finish();

 private:
  static constexpr size_t kLanes = 2;

  struct Lane {
    std::vector<CaptureItem> batch;
    std::vector<int64_t> rows;  // stream positions of `batch`
    std::future<Results> writing;
    std::vector<int64_t> writing_rows;
  };

  // Starts writing the lane's batch once its previous one is counted.
  absl::Status StartWrite(Lane& lane);
  // Waits for the lane's write in flight, if any, and counts it.
  absl::Status Collect(Lane& lane);
  // After a failure: lets the other lanes finish and counts what they committed.
  absl::Status Stop(const absl::Status& failure);

  const WriteBatch write_;
  const size_t batch_size_;
  v1::ImportLeadsResponse* const summary_;
  Lane lanes_[kLanes];
};

}  // namespace funnel::marketing
