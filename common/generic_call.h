#pragma once

// A unary call by method name with raw message bytes, blocking the calling thread:
// what the outbox relay does with an event whose bytes are the request, and what
// tests do to speak any contract version.

#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace funnel::common {

// Calls `method` ("/pkg.Service/Method") with `request` bytes; the reply's bytes go
// to `reply` when it is not null. Never call it on a reactor thread.
grpc::Status BlockingRawCall(grpc::GenericStub& stub, grpc::ClientContext* context,
                             const std::string& method, const std::string& request,
                             std::string* reply);

// Calls a client-streaming `method` with each of `requests` as one message of the
// stream (stopping early if the server ends the call), then waits for its answer.
grpc::Status BlockingRawClientStream(grpc::GenericStub& stub, grpc::ClientContext* context,
                                     const std::string& method,
                                     const std::vector<std::string>& requests, std::string* reply);

// One call of ConcurrentRawCalls: method and request in, status and reply out.
struct RawCall {
  std::string method;
  std::string request;
  std::vector<std::pair<std::string, std::string>> metadata;  // this call's own
  grpc::Status status;
  std::string reply;
};

// Makes every call at once and waits until all have ended; `prepare` sets up each
// call's context (deadline, metadata all calls share) before its own metadata is added. Never call
// it on a reactor thread.
void ConcurrentRawCalls(grpc::GenericStub& stub, std::vector<RawCall>& calls,
                        const std::function<void(grpc::ClientContext*)>& prepare);

}  // namespace funnel::common
