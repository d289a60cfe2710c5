// Page tokens (common/pagination.h): any token a caller sends decodes or is
// INVALID_ARGUMENT naming page_token, and every key encodes to a token that
// decodes back to that key.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "common/pagination.h"
#include "fuzz/fail.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const size_t parts = in.ConsumeIntegralInRange<size_t>(1, 4);
  const std::string scope = in.ConsumeRandomLengthString(64);
  std::vector<std::string> key;
  for (size_t i = 0; i < parts; ++i) key.push_back(in.ConsumeRandomLengthString(64));
  const std::string token = in.ConsumeRemainingBytesAsString();

  const auto decoded = funnel::common::DecodePageToken(scope, token, parts);
  if (!decoded.ok() && decoded.status().message().rfind("page_token: ", 0) != 0) {
    funnel::fuzz::Broken("a bad token is refused naming page_token", token,
                         decoded.status().ToString());
  }
  if (decoded.ok() && !token.empty() && decoded->size() != parts) {
    funnel::fuzz::Broken("a token decodes to a key of the listing's size", token);
  }
  (void)funnel::common::DecodeIdToken(scope, token);

  const auto round_trip =
      funnel::common::DecodePageToken(scope, funnel::common::EncodePageToken(scope, key), parts);
  if (!round_trip.ok() || *round_trip != key) {
    funnel::fuzz::Broken(
        "every key's token decodes back to it", absl::StrJoin(key, "\", \""),
        round_trip.ok() ? absl::StrJoin(*round_trip, "\", \"") : round_trip.status().ToString());
  }
  return 0;
}
