#pragma once

// The key of an idempotent request (AIP-155, with Stripe's semantics): the caller's
// request_id, scoped to who called and which method and compared byte for byte, and
// a fingerprint of the request that tells a retry from a different request reusing
// the id.

#include <string>

#include "google/protobuf/message.h"

namespace funnel::common {

struct RequestKey {
  RequestKey() = default;
  // A bare id, as in-process callers and tests use: no principal, no fingerprint
  // (so no check that a reuse repeats the same request).
  RequestKey(std::string id) : request_id(std::move(id)) {}  // NOLINT: implicit on purpose
  RequestKey(const char* id) : request_id(id) {}             // NOLINT

  bool empty() const { return request_id.empty(); }

  std::string principal;    // the verified caller's id
  std::string request_id;   // the caller's id, as sent
  std::string fingerprint;  // RequestFingerprint of the request; empty: not checked
};

// Hex SHA-256 of `request` serialized deterministically without its top-level
// `request_id` field: equal for a retry, different for any other field's change.
std::string RequestFingerprint(const google::protobuf::Message& request);

}  // namespace funnel::common
