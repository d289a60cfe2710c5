#include "common/request_id.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "common/ids.h"

namespace funnel::common {
namespace {
thread_local std::string current_request_id;
}  // namespace

bool IsWellFormedRequestId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdBytes) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

std::string NewRequestId() { return NewUuid(); }

const std::string& CurrentRequestId() { return current_request_id; }

void SetCurrentRequestId(std::string id) { current_request_id = std::move(id); }

RequestIdScope::RequestIdScope(std::string id) : previous_(std::move(current_request_id)) {
  current_request_id = std::move(id);
}

RequestIdScope::~RequestIdScope() { current_request_id = std::move(previous_); }

}  // namespace funnel::common
