#include "marketing_service/import_stream.h"

#include <grpcpp/impl/codegen/proto_utils.h>

#include "absl/time/clock.h"
#include "common/request_id.h"
#include "common/server/caller.h"
#include "common/status.h"

namespace funnel::marketing {

namespace {

absl::StatusOr<v1::CaptureLeadRequest> Decode(grpc::ByteBuffer* bytes) {
  v1::CaptureLeadRequest row;
  if (!grpc::SerializationTraits<v1::CaptureLeadRequest>::Deserialize(bytes, &row).ok()) {
    return absl::InvalidArgumentError(
        "row: malformed: the bytes are not a valid CaptureLeadRequest message");
  }
  return row;
}

}  // namespace

ImportStream::ImportStream(grpc::CallbackServerContext* context, grpc::ByteBuffer* response,
                           ImportWriter::WriteBatch write, PrepareRow prepare,
                           common::WorkQueue* workers, const absl::Status& admitted)
    : prepare_(std::move(prepare)),
      workers_(workers),
      actor_(common::CallerId(*context)),
      request_id_(common::RequestIdOf(*context)),
      response_(response),
      writer_(std::move(write), kImportBatch, &summary_) {
  if (!admitted.ok()) {
    Finish(common::ToGrpcStatus(admitted));
    return;
  }
  chunk_.reserve(kChunkRows);
  StartRead(&row_);
}

void ImportStream::OnReadDone(bool ok) {
  if (ok) {
    chunk_.push_back(Decode(&row_));
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
  for (absl::StatusOr<v1::CaptureLeadRequest>& row : chunk_) {
    ++number_;
    absl::StatusOr<v1::CaptureLeadRequest> prepared = row.ok() ? prepare_(*row) : row.status();
    if (!prepared.ok()) {
      AddRowError(number_, prepared.status(), &summary_);
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
    FinishWithSummary();
    return;
  }
  StartRead(&row_);
}

void ImportStream::FinishWithSummary() {
  if (absl::Status s = writer_.Finish(); !s.ok()) {
    Finish(common::ToGrpcStatus(s));
    return;
  }
  bool own_buffer = false;
  grpc::Status serialized = grpc::SerializationTraits<v1::ImportLeadsResponse>::Serialize(
      summary_, response_, &own_buffer);
  Finish(serialized);
}

}  // namespace funnel::marketing
