#include "marketing_service/import_stream.h"

#include "absl/time/clock.h"
#include "common/request_id.h"
#include "common/server/caller.h"
#include "common/status.h"

namespace funnel::marketing {

ImportStream::ImportStream(grpc::CallbackServerContext* context, v1::ImportLeadsResponse* summary,
                           ImportWriter::WriteBatch write, PrepareRow prepare,
                           common::WorkQueue* workers, const absl::Status& admitted)
    : prepare_(std::move(prepare)),
      workers_(workers),
      actor_(common::CallerId(*context)),
      request_id_(common::RequestIdOf(*context)),
      summary_(summary),
      writer_(std::move(write), kImportBatch, summary) {
  if (!admitted.ok()) {
    Finish(common::ToGrpcStatus(admitted));
    return;
  }
  chunk_.reserve(kChunkRows);
  StartRead(&row_);
}

void ImportStream::OnReadDone(bool ok) {
  if (ok) {
    chunk_.push_back(std::move(row_));
    row_.Clear();
    if (chunk_.size() < kChunkRows) {
      StartRead(&row_);
      return;
    }
  }
  workers_->Post([this, last = !ok] { WriteChunk(last); });
}

void ImportStream::WriteChunk(bool last) {
  const common::RequestIdScope request_id(request_id_);
  for (v1::CaptureLeadRequest& row : chunk_) {
    ++number_;
    absl::StatusOr<v1::CaptureLeadRequest> prepared = prepare_(row);
    if (!prepared.ok()) {
      AddRowError(number_, prepared.status(), summary_);
      continue;
    }
    if (absl::Status s =
            writer_.Add(number_, CaptureItem{*std::move(prepared), actor_, absl::Now()});
        !s.ok()) {
      Finish(common::ToGrpcStatus(s));  // the database failed; what committed is counted
      return;
    }
  }
  chunk_.clear();
  if (last) {
    Finish(common::ToGrpcStatus(writer_.Finish()));
    return;
  }
  StartRead(&row_);
}

}  // namespace funnel::marketing
