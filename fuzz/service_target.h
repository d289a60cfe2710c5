#pragma once

// A libFuzzer target that drives one department's service in-process, exactly as
// its main() wires it (DbServiceSpec), on a fresh database of the MariaDB the
// tests use (FUNNEL_TEST_DB_*), through a real gRPC server on loopback.
//
// An input is one call: byte 0 picks the method (of every method the served
// services have, in declaration order), byte 1 the caller's role (or none), byte 2
// its rep id; the rest is the request's bytes, or for a client stream a sequence
// of [2-byte big-endian length][message bytes].
//
// What must hold for any input: the call ends (no hang past its deadline), and
// with a clear answer. A status of UNKNOWN, INTERNAL, DATA_LOSS or UNIMPLEMENTED,
// an error without a message, or an OK answer that is not the method's response
// message, aborts the target with the call that did it. FUNNEL_FUZZ_VERBOSE=1
// prints every call's answer (to check what seeds reach).

#include <grpcpp/generic/generic_stub.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "handoff/service_main.h"

namespace funnel::fuzz {

// One decoded input.
struct FuzzCall {
  const google::protobuf::MethodDescriptor* method = nullptr;
  std::string role;  // empty: no principal
  int64_t rep_id = 0;
  std::vector<std::string> messages;  // exactly one unless the method streams requests
};

// The methods of `services` (full names), in declaration order.
std::vector<const google::protobuf::MethodDescriptor*> MethodsOf(
    const std::vector<std::string>& services);

// Decodes an input as described above (nullopt-like: method null for an empty input).
FuzzCall DecodeCall(const std::vector<const google::protobuf::MethodDescriptor*>& methods,
                    const uint8_t* data, size_t size);

// The inverse of DecodeCall, for seeds.
std::string EncodeCall(const std::vector<const google::protobuf::MethodDescriptor*>& methods,
                       const FuzzCall& call);

// The roles a call may carry (byte 1 modulo their count; the last is none).
const std::vector<std::string>& FuzzRoles();

// When FUNNEL_FUZZ_WRITE_SEEDS is "<seeds.txt>:<dir>", writes each call of the
// text seeds file (format in fuzz/seeds/) into <dir> as a binary input and exits:
// how ./dev fuzz makes the starting corpus. Returns otherwise.
void MaybeWriteSeeds(const std::vector<const google::protobuf::MethodDescriptor*>& methods);

class ServiceTarget final {
 public:
  // Applies the spec's migrations to a fresh database and serves its services.
  // Exits the process with a message when the database cannot be reached.
  ServiceTarget(const handoff::DbServiceSpec& spec, std::vector<std::string> services);
  ~ServiceTarget();

  // Makes the call an input decodes to and checks its answer (see above).
  void Run(const uint8_t* data, size_t size);

  const std::vector<const google::protobuf::MethodDescriptor*>& methods() const { return methods_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::vector<const google::protobuf::MethodDescriptor*> methods_;
};

}  // namespace funnel::fuzz

// Defines a target's libFuzzer entry points: SPEC() is the department's
// DbServiceSpec, SERVED the array of the public service names it registers.
#define FUNNEL_SERVICE_FUZZER(SPEC, SERVED)                                              \
  static std::vector<std::string> FunnelServed() {                                       \
    return {std::begin(SERVED), std::end(SERVED)};                                       \
  }                                                                                      \
  extern "C" int LLVMFuzzerInitialize(int*, char***) {                                   \
    funnel::fuzz::MaybeWriteSeeds(funnel::fuzz::MethodsOf(FunnelServed()));              \
    return 0;                                                                            \
  }                                                                                      \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {              \
    static auto* const target = new funnel::fuzz::ServiceTarget(SPEC(), FunnelServed()); \
    target->Run(data, size);                                                             \
    return 0;                                                                            \
  }
