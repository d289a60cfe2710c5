#pragma once

// Every bad field of a request at once. AIP-193's BadRequest lists them all, so a
// caller fixes a request in one round trip instead of one field per call.
//
//   FieldViolations violations;
//   violations.Check(ValidateMoney(c.budget(), "campaign.budget"));
//   violations.Check(RequirePositiveId(c.owner_id(), "campaign.owner_id"));
//   RETURN_IF_ERROR(violations.status());

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/rpc/error_details.pb.h"

namespace funnel::common {

// At most this many violations are kept, each cut to the sizes below: they travel
// in the trailers (grpc-status-details-bin) beside the status message, and the
// whole block must stay well under every hop's metadata limit (common/limits.h).
inline constexpr int kMaxFieldViolations = 10;
inline constexpr size_t kMaxViolationFieldBytes = 100;
inline constexpr size_t kMaxViolationDescriptionBytes = 200;

class FieldViolations {
 public:
  // Keeps `check`'s failure. An INVALID_ARGUMENT adds its field violations (all of
  // them when it came from another FieldViolations, else the field its message
  // names). Any other error is not about a field: the first one is kept whole, and
  // status() returns it instead of the violations.
  void Check(const absl::Status& check);

  // `result`'s value; nullopt after keeping its failure as Check does.
  template <typename T>
  std::optional<T> Take(absl::StatusOr<T> result) {
    if (result.ok()) return *std::move(result);
    Check(result.status());
    return std::nullopt;
  }

  void Add(absl::string_view field, absl::string_view description);

  // Nothing is dropped before kMaxFieldViolations were kept.
  bool empty() const { return other_.ok() && bad_.field_violations_size() == 0; }

  // OK when nothing was kept. Otherwise INVALID_ARGUMENT whose message lists every
  // violation ("a: why; b: why") and which carries them for ToGrpcStatus's
  // BadRequest, with the reason of the first violation that had one.
  absl::Status status() const;

 private:
  google::rpc::BadRequest bad_;
  int dropped_ = 0;
  std::optional<std::string> reason_;
  absl::Status other_;
};

}  // namespace funnel::common
