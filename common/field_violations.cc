#include "common/field_violations.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"

namespace funnel::common {

void FieldViolations::Check(const absl::Status& check) {
  if (check.ok()) return;
  if (check.code() != absl::StatusCode::kInvalidArgument) {
    if (other_.ok()) other_ = check;
    return;
  }
  if (!reason_) {
    if (const auto reason = check.GetPayload(kReasonPayload)) reason_ = std::string(*reason);
  }
  google::rpc::BadRequest nested;
  const auto carried = check.GetPayload(kBadRequestPayload);
  if (carried && nested.ParseFromString(std::string(*carried))) {
    for (const auto& v : nested.field_violations()) Add(v.field(), v.description());
    return;
  }
  const std::string field = FieldOf(check.message());
  Add(field, field.empty() ? check.message() : check.message().substr(field.size() + 2));
}

void FieldViolations::Add(absl::string_view field, absl::string_view description) {
  if (bad_.field_violations_size() >= kMaxFieldViolations) {
    ++dropped_;
    return;
  }
  google::rpc::BadRequest::FieldViolation* v = bad_.add_field_violations();
  v->set_field(TruncateMessage(field, kMaxViolationFieldBytes));
  v->set_description(TruncateMessage(description, kMaxViolationDescriptionBytes));
}

absl::Status FieldViolations::status() const {
  if (!other_.ok()) return other_;
  if (empty()) return absl::OkStatus();
  std::string message =
      absl::StrJoin(bad_.field_violations(), "; ", [](std::string* out, const auto& v) {
        absl::StrAppend(out, v.field(), v.field().empty() ? "" : ": ", v.description());
      });
  if (dropped_ > 0) absl::StrAppend(&message, "; and ", dropped_, " more");
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kBadRequestPayload, absl::Cord(bad_.SerializeAsString()));
  if (reason_) status.SetPayload(kReasonPayload, absl::Cord(*reason_));
  return status;
}

}  // namespace funnel::common
