#include "common/request_limits.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace funnel::common {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

absl::Status Check(const Message& m, const std::string& prefix) {
  const google::protobuf::Reflection* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);  // only the fields that are set
  for (const FieldDescriptor* f : fields) {
    const std::string path = absl::StrCat(prefix, f->name());
    if (f->is_repeated()) {
      const int n = r->FieldSize(m, f);
      if (n > kMaxListEntries) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": more than ", kMaxListEntries, " entries"));
      }
      for (int i = 0; i < n; ++i) {
        if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
          std::string scratch;
          if (r->GetRepeatedStringReference(m, f, i, &scratch).size() > kMaxFieldBytes) {
            return absl::InvalidArgumentError(
                absl::StrCat(path, ": an entry is longer than ", kMaxFieldBytes, " bytes"));
          }
        } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          if (absl::Status s = Check(r->GetRepeatedMessage(m, f, i), absl::StrCat(path, "."));
              !s.ok()) {
            return s;
          }
        }
      }
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      std::string scratch;
      if (r->GetStringReference(m, f, &scratch).size() > kMaxFieldBytes) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": longer than ", kMaxFieldBytes, " bytes"));
      }
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (absl::Status s = Check(r->GetMessage(m, f), absl::StrCat(path, ".")); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckRequestSizes(const Message& request) { return Check(request, ""); }

}  // namespace funnel::common
