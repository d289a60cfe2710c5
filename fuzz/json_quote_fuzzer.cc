// The JSON logger's quoting (common/log.h): whatever bytes a log field holds (a
// caller's request id, an error message quoting input), the line stays one valid
// JSON string in valid UTF-8, and valid UTF-8 text reads back unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/log.h"
#include "fuzz/fail.h"
#include "fuzz/json_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::string quoted = funnel::common::JsonQuote(input);
  std::string decoded;
  if (!funnel::fuzz::DecodeJsonString(quoted, &decoded)) {
    funnel::fuzz::Broken("the quoted field is one valid JSON string", input, quoted);
  }
  if (funnel::fuzz::IsValidUtf8(input) && decoded != input) {
    funnel::fuzz::Broken("valid UTF-8 reads back unchanged", input, decoded);
  }
  return 0;
}
