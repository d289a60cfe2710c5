#include "common/generic_call.h"

#include <memory>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"

namespace funnel::common {

namespace {

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromBuffer(grpc::ByteBuffer& buffer) {
  std::string out;
  std::vector<grpc::Slice> slices;
  (void)buffer.Dump(&slices);
  for (const grpc::Slice& s : slices)
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

}  // namespace

void ConcurrentRawCalls(grpc::GenericStub& stub, std::vector<RawCall>& calls,
                        const std::function<void(grpc::ClientContext*)>& prepare) {
  struct InFlight {
    grpc::ClientContext context;
    grpc::ByteBuffer request;
    grpc::ByteBuffer reply;
  };
  std::vector<std::unique_ptr<InFlight>> in_flight;
  absl::BlockingCounter pending(static_cast<int>(calls.size()));
  for (RawCall& call : calls) {
    auto f = std::make_unique<InFlight>();
    prepare(&f->context);
    for (const auto& [key, value] : call.metadata) f->context.AddMetadata(key, value);
    f->request = ToBuffer(call.request);
    InFlight* raw = f.get();
    in_flight.push_back(std::move(f));
    stub.UnaryCall(&raw->context, call.method, {}, &raw->request, &raw->reply,
                   [&call, raw, &pending](grpc::Status s) {
                     call.status = std::move(s);
                     if (call.status.ok()) call.reply = FromBuffer(raw->reply);
                     pending.DecrementCount();
                   });
  }
  pending.Wait();
}

grpc::Status BlockingRawCall(grpc::GenericStub& stub, grpc::ClientContext* context,
                             const std::string& method, const std::string& request,
                             std::string* reply) {
  grpc::ByteBuffer request_buffer = ToBuffer(request);
  grpc::ByteBuffer reply_buffer;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(context, method, {}, &request_buffer, &reply_buffer, [&](grpc::Status s) {
    status = std::move(s);
    done.Notify();
  });
  done.WaitForNotification();
  if (reply != nullptr) *reply = FromBuffer(reply_buffer);
  return status;
}

grpc::Status BlockingRawClientStream(grpc::GenericStub& stub, grpc::ClientContext* context,
                                     const std::string& method,
                                     const std::vector<std::string>& requests, std::string* reply) {
  // One operation in flight at a time, so each Next() answers the one just started.
  grpc::CompletionQueue cq;
  const auto wait = [&cq] {
    void* tag = nullptr;
    bool ok = false;
    return cq.Next(&tag, &ok) && ok;
  };
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(context, method, &cq);
  call->StartCall(nullptr);
  bool open = wait();
  for (size_t i = 0; open && i < requests.size(); ++i) {
    const grpc::ByteBuffer buffer = ToBuffer(requests[i]);
    call->Write(buffer, nullptr);
    open = wait();
  }
  if (open) {
    call->WritesDone(nullptr);
    wait();
  }
  grpc::ByteBuffer reply_buffer;
  call->Read(&reply_buffer, nullptr);
  const bool replied = wait();
  grpc::Status status;
  call->Finish(&status, nullptr);
  wait();
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
  if (reply != nullptr && replied) *reply = FromBuffer(reply_buffer);
  return status;
}

}  // namespace funnel::common
