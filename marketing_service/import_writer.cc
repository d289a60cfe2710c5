#include "marketing_service/import_writer.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"

namespace funnel::marketing {

namespace {

// Keeps the listed errors to the first kMaxListedRowErrors rows by row number, and
// counts the others. Errors arrive nearly in row order (a lane's lag at most), so
// trimming only once twice the list is held keeps the work and memory small.
void TrimRowErrors(v1::ImportLeadsResponse* summary, int keep_at_most) {
  auto* errors = summary->mutable_errors();
  if (errors->size() <= keep_at_most) return;
  std::stable_sort(
      errors->begin(), errors->end(),
      [](const v1::ImportRowError& a, const v1::ImportRowError& b) { return a.row() < b.row(); });
  summary->set_errors_omitted(summary->errors_omitted() + errors->size() - kMaxListedRowErrors);
  errors->DeleteSubrange(kMaxListedRowErrors, errors->size() - kMaxListedRowErrors);
}

}  // namespace

void AddRowError(int64_t row, const absl::Status& status, v1::ImportLeadsResponse* summary) {
  summary->set_rejected(summary->rejected() + 1);
  v1::ImportRowError* error = summary->add_errors();
  error->set_row(row);
  error->set_reason(std::string(status.message()));
  TrimRowErrors(summary, 2 * kMaxListedRowErrors);
}

ImportWriter::~ImportWriter() {
  for (Lane& lane : lanes_) {
    if (lane.writing.valid()) lane.writing.wait();
  }
}

absl::Status ImportWriter::Add(int64_t row, CaptureItem item) {
  Lane& lane = lanes_[std::hash<std::string>()(item.request.contact().email()) % kLanes];
  lane.batch.push_back(std::move(item));
  lane.rows.push_back(row);
  if (lane.batch.size() < batch_size_) return absl::OkStatus();
  return StartWrite(lane);
}

absl::Status ImportWriter::Finish() {
  for (Lane& lane : lanes_) {
    if (absl::Status s = StartWrite(lane); !s.ok()) return s;
  }
  for (Lane& lane : lanes_) {
    if (absl::Status s = Collect(lane); !s.ok()) return Stop(s);
  }
  // Rows rejected while reading were counted before the write results of rows
  // ahead of them, and lanes finish in any order.
  std::stable_sort(
      summary_->mutable_errors()->begin(), summary_->mutable_errors()->end(),
      [](const v1::ImportRowError& a, const v1::ImportRowError& b) { return a.row() < b.row(); });
  TrimRowErrors(summary_, kMaxListedRowErrors);
  return absl::OkStatus();
}

absl::Status ImportWriter::StartWrite(Lane& lane) {
  if (absl::Status s = Collect(lane); !s.ok()) return Stop(s);
  if (lane.batch.empty()) return absl::OkStatus();
  lane.writing = std::async(std::launch::async,
                            [this, items = std::move(lane.batch)] { return write_(items); });
  lane.writing_rows = std::move(lane.rows);
  lane.batch.clear();
  lane.rows.clear();
  return absl::OkStatus();
}

absl::Status ImportWriter::Collect(Lane& lane) {
  if (!lane.writing.valid()) return absl::OkStatus();
  const Results results = lane.writing.get();
  for (size_t i = 0; i < results.size(); ++i) {
    const absl::Status& status = results[i].status();
    // The database failing is not a bad row: the whole batch failed (none of it
    // is committed) and the import stops.
    if (absl::IsUnavailable(status) || absl::IsInternal(status)) {
      return absl::Status(status.code(),
                          absl::StrCat("import stopped at row ", lane.writing_rows.front(), ": ",
                                       status.message()));
    }
    if (status.ok() && results[i]->replayed()) {
      summary_->set_replayed(summary_->replayed() + 1);
    } else if (status.ok()) {
      results[i]->created() ? summary_->set_created(summary_->created() + 1)
                            : summary_->set_merged(summary_->merged() + 1);
    } else {
      AddRowError(lane.writing_rows[i], status, summary_);
    }
  }
  return absl::OkStatus();
}

absl::Status ImportWriter::Stop(const absl::Status& failure) {
  for (Lane& lane : lanes_) Collect(lane).IgnoreError();
  return absl::Status(
      failure.code(),
      absl::StrCat(failure.message(), " (", summary_->created(), " created, ", summary_->merged(),
                   " merged in the batches that committed; rows with request ids are safe to "
                   "send again)"));
}

}  // namespace funnel::marketing
