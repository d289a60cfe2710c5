#include "common/generic_call.h"

#include <vector>

#include "absl/synchronization/notification.h"

namespace funnel::common {

grpc::Status BlockingRawCall(grpc::GenericStub& stub, grpc::ClientContext* context,
                             const std::string& method, const std::string& request,
                             std::string* reply) {
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer reply_buffer;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(context, method, {}, &request_buffer, &reply_buffer, [&](grpc::Status s) {
    status = std::move(s);
    done.Notify();
  });
  done.WaitForNotification();
  if (reply != nullptr) {
    reply->clear();
    std::vector<grpc::Slice> slices;
    (void)reply_buffer.Dump(&slices);
    for (const grpc::Slice& s : slices) reply->append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return status;
}

}  // namespace funnel::common
