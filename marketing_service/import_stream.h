#pragma once

// One ImportLeads stream, read without holding a thread while the client is slow
// or silent: rows arrive on gRPC's callback threads a chunk at a time, and each
// chunk is validated and written (ImportWriter, which blocks on the database) on a
// shared pool of workers. A stalled client holds this object and at most one chunk
// plus the writer's open batches, never a thread.
//
// Rows arrive as raw bytes and are decoded here: gRPC reports a message it cannot
// decode exactly as it reports the end of a stream, so a malformed row would
// silently end the import. Decoded here, it is a rejected row like any other.

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/work_queue.h"
#include "funnel/marketing/v1/marketing_service.pb.h"
#include "marketing_service/import_writer.h"

namespace funnel::marketing {

class ImportStream final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  // Validates and normalises one row (MarketingServiceImpl::PrepareCapture).
  using PrepareRow =
      std::function<absl::StatusOr<v1::CaptureLeadRequest>(const v1::CaptureLeadRequest&)>;

  // Starts reading, or finishes at once with `admitted` when it is an error. The
  // summary (a v1::ImportLeadsResponse) is written to `response` when the import ends.
  ImportStream(grpc::CallbackServerContext* context, grpc::ByteBuffer* response,
               ImportWriter::WriteBatch write, PrepareRow prepare, common::WorkQueue* workers,
               const absl::Status& admitted);

  void OnReadDone(bool ok) override;
  void OnDone() override { delete this; }

 private:
  // Rows read before a chunk is handed to a worker.
  static constexpr size_t kChunkRows = 64;

  // On a worker: validates and adds the chunk's rows, then reads on (or, after
  // the last row, writes what is left and finishes).
  void WriteChunk(bool last);
  // Finishes OK with the summary as the answer.
  void FinishWithSummary();

  const PrepareRow prepare_;
  common::WorkQueue* const workers_;
  const std::string actor_;
  const std::string request_id_;
  grpc::ByteBuffer* const response_;
  v1::ImportLeadsResponse summary_;
  ImportWriter writer_;
  grpc::ByteBuffer row_;
  std::vector<absl::StatusOr<v1::CaptureLeadRequest>> chunk_;  // decoded, or why not
  int64_t number_ = 0;  // rows seen, for their 1-based positions
};

}  // namespace funnel::marketing
