#include "fuzz/service_target.h"

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/generic_call.h"
#include "common/log.h"
#include "common/mysql/pool.h"
#include "common/server/internal_guard.h"
#include "common/server/principal.h"
#include "common/server/request_log.h"
#include "common/server/service_host.h"
#include "common/status.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"
#include "handoff/schema.h"
#include "tests/testing/harness.h"

namespace funnel::fuzz {

namespace {

constexpr char kSecret[] = "fuzz-internal-secret";

bool AnswerIsClear(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::DATA_LOSS:
    case grpc::StatusCode::UNIMPLEMENTED:
      return false;
    default:
      return status.ok() || !status.error_message().empty();
  }
}

}  // namespace

struct ServiceTarget::State {
  std::unique_ptr<testing::TestDatabase> db;
  std::unique_ptr<common::ConnectionPool> pool;
  common::InternalGuard guard{kSecret};
  std::unique_ptr<common::ServiceHost> host;
  std::shared_ptr<void> services;
  std::unique_ptr<grpc::GenericStub> stub;
};

std::vector<const google::protobuf::MethodDescriptor*> MethodsOf(
    const std::vector<std::string>& services) {
  std::vector<const google::protobuf::MethodDescriptor*> methods;
  for (const std::string& name : services) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    if (service == nullptr) {
      std::fprintf(stderr, "fuzz: unknown service %s\n", name.c_str());
      std::abort();
    }
    for (int i = 0; i < service->method_count(); ++i) {
      // A watch (WatchEvents) never ends by itself; the change feed has tests of its
      // own (tests/e2e/change_feed_test.cc).
      if (!service->method(i)->server_streaming()) methods.push_back(service->method(i));
    }
  }
  return methods;
}

const std::vector<std::string>& FuzzRoles() {
  static const auto* const roles =
      new std::vector<std::string>{"MARKETING", "SALES_REP",         "SALES_MANAGER", "REVENUE_OPS",
                                   "ADMIN",     "SERVICE_MARKETING", "SERVICE_SALES", ""};
  return *roles;
}

FuzzCall DecodeCall(const std::vector<const google::protobuf::MethodDescriptor*>& methods,
                    const uint8_t* data, size_t size) {
  FuzzCall call;
  if (size < 3 || methods.empty()) return call;
  call.method = methods[data[0] % methods.size()];
  call.role = FuzzRoles()[data[1] % FuzzRoles().size()];
  call.rep_id = data[2] % 4;
  const char* rest = reinterpret_cast<const char*>(data + 3);
  const size_t rest_size = size - 3;
  if (!call.method->client_streaming()) {
    call.messages.emplace_back(rest, rest_size);
    return call;
  }
  for (size_t at = 0; at + 2 <= rest_size;) {
    const size_t length =
        std::min<size_t>((static_cast<uint8_t>(rest[at]) << 8) | static_cast<uint8_t>(rest[at + 1]),
                         rest_size - at - 2);
    call.messages.emplace_back(rest + at + 2, length);
    at += 2 + length;
  }
  return call;
}

std::string EncodeCall(const std::vector<const google::protobuf::MethodDescriptor*>& methods,
                       const FuzzCall& call) {
  std::string out(3, '\0');
  for (size_t i = 0; i < methods.size(); ++i) {
    if (methods[i] == call.method) out[0] = static_cast<char>(i);
  }
  for (size_t i = 0; i < FuzzRoles().size(); ++i) {
    if (FuzzRoles()[i] == call.role) out[1] = static_cast<char>(i);
  }
  out[2] = static_cast<char>(call.rep_id);
  if (!call.method->client_streaming())
    return out + (call.messages.empty() ? "" : call.messages[0]);
  for (const std::string& m : call.messages) {
    out += static_cast<char>((m.size() >> 8) & 0xff);
    out += static_cast<char>(m.size() & 0xff);
    out += m;
  }
  return out;
}

namespace {

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "fuzz: %s\n", message.c_str());
  std::exit(1);
}

// One "@ ..." block of a seeds file as a call.
FuzzCall SeedCall(const std::vector<const google::protobuf::MethodDescriptor*>& methods,
                  absl::string_view header, absl::string_view body, int line) {
  std::vector<std::string> f = absl::StrSplit(header, ' ', absl::SkipEmpty());
  FuzzCall call;
  if (f.size() != 4) Fail(absl::StrCat("seeds line ", line, ": want '@ <method> <ROLE|-> <rep>'"));
  for (const auto* m : methods) {
    if (absl::StrCat(m->service()->full_name(), "/", m->name()) == f[1]) call.method = m;
  }
  if (call.method == nullptr) Fail(absl::StrCat("seeds line ", line, ": unknown method ", f[1]));
  call.role = f[2] == "-" ? "" : f[2];
  if (!absl::SimpleAtoi(f[3], &call.rep_id)) Fail(absl::StrCat("seeds line ", line, ": rep id"));
  std::vector<std::string> texts = call.method->client_streaming()
                                       ? absl::StrSplit(body, "\n---\n")
                                       : std::vector<std::string>{std::string(body)};
  for (const std::string& text : texts) {
    std::unique_ptr<google::protobuf::Message> message(
        google::protobuf::MessageFactory::generated_factory()
            ->GetPrototype(call.method->input_type())
            ->New());
    if (!google::protobuf::TextFormat::ParseFromString(text, message.get())) {
      Fail(absl::StrCat("seeds line ", line, ": not a ", call.method->input_type()->full_name()));
    }
    call.messages.push_back(message->SerializeAsString());
  }
  return call;
}

}  // namespace

void MaybeWriteSeeds(const std::vector<const google::protobuf::MethodDescriptor*>& methods) {
  const char* spec = std::getenv("FUNNEL_FUZZ_WRITE_SEEDS");
  if (spec == nullptr) return;
  const std::vector<std::string> paths = absl::StrSplit(spec, absl::MaxSplits(':', 1));
  if (paths.size() != 2) Fail("FUNNEL_FUZZ_WRITE_SEEDS: want <seeds.txt>:<dir>");
  std::ifstream in(paths[0]);
  if (!in) Fail(absl::StrCat("cannot read ", paths[0]));
  std::vector<std::pair<int, std::string>> blocks;  // first line number, text
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (absl::StartsWith(line, "#")) continue;
    if (absl::StartsWith(line, "@")) {
      blocks.emplace_back(number, line + "\n");
    } else if (!blocks.empty()) {
      blocks.back().second += line + "\n";
    }
  }
  int written = 0;
  for (const auto& [number, text] : blocks) {
    const size_t eol = text.find('\n');
    const FuzzCall call =
        SeedCall(methods, text.substr(0, eol),
                 absl::StripTrailingAsciiWhitespace(text.substr(eol + 1)), number);
    const std::string path = absl::StrCat(paths[1], "/seed-", absl::Dec(number, absl::kZeroPad4));
    std::ofstream out(path, std::ios::binary);
    out << EncodeCall(methods, call);
    if (!out) Fail(absl::StrCat("cannot write ", path));
    ++written;
  }
  std::fprintf(stderr, "fuzz: wrote %d seeds to %s\n", written, paths[1].c_str());
  std::exit(0);
}

ServiceTarget::ServiceTarget(const handoff::DbServiceSpec& spec, std::vector<std::string> services)
    : state_(std::make_unique<State>()), methods_(MethodsOf(services)) {
  common::SetLogLevel("error");
  state_->db = std::make_unique<testing::TestDatabase>(absl::StrCat("fuzz_", spec.name));
  common::DbOptions options = state_->db->options();
  options.pool_size = 8;
  state_->pool = std::make_unique<common::ConnectionPool>(options);
  if (absl::Status s = handoff::ApplySchema(*state_->pool, *spec.migrations); !s.ok()) {
    std::fprintf(stderr, "fuzz: migrations failed: %s\n", s.ToString().c_str());
    std::exit(1);
  }
  common::ServiceHostOptions host_options;
  host_options.name = absl::StrCat(spec.name, "-fuzz");
  state_->host = std::make_unique<common::ServiceHost>(host_options);
  // No change feed: WatchEvents is not fuzzed (MethodsOf).
  absl::StatusOr<std::shared_ptr<void>> installed = spec.install(
      *state_->host, *state_->pool, [] {}, &state_->guard, /*feed=*/nullptr);
  if (!installed.ok()) {
    std::fprintf(stderr, "fuzz: install failed: %s\n", installed.status().ToString().c_str());
    std::exit(1);
  }
  state_->services = *std::move(installed);
  if (absl::Status s = state_->host->Start(); !s.ok()) {
    std::fprintf(stderr, "fuzz: server failed: %s\n", s.ToString().c_str());
    std::exit(1);
  }
  state_->stub = std::make_unique<grpc::GenericStub>(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", state_->host->port()), grpc::InsecureChannelCredentials()));
}

ServiceTarget::~ServiceTarget() {
  state_->host->Shutdown();
  state_->services.reset();
}

void ServiceTarget::Run(const uint8_t* data, size_t size) {
  const FuzzCall call = DecodeCall(methods_, data, size);
  if (call.method == nullptr) return;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  context.AddMetadata(common::kInternalHeader, kSecret);
  if (!call.role.empty()) {
    context.AddMetadata(common::kPrincipalIdHeader, "fuzzer");
    context.AddMetadata(common::kRoleHeader, call.role);
    context.AddMetadata(common::kRepIdHeader, absl::StrCat(call.rep_id));
  }
  const std::string path =
      absl::StrCat("/", call.method->service()->full_name(), "/", call.method->name());
  std::string reply;
  const grpc::Status status =
      call.method->client_streaming()
          ? common::BlockingRawClientStream(*state_->stub, &context, path, call.messages, &reply)
          : common::BlockingRawCall(*state_->stub, &context, path, call.messages[0], &reply);
  bool reply_ok = true;
  if (status.ok()) {
    std::unique_ptr<google::protobuf::Message> response(
        google::protobuf::MessageFactory::generated_factory()
            ->GetPrototype(call.method->output_type())
            ->New());
    reply_ok = response->ParseFromString(reply);
  }
  static const bool verbose = std::getenv("FUNNEL_FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    std::fprintf(stderr, "fuzz: %s as %s: %s %s\n", path.c_str(), call.role.c_str(),
                 common::StatusCodeName(status.error_code()).c_str(),
                 status.error_message().c_str());
  }
  if (AnswerIsClear(status) && reply_ok &&
      status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
    return;
  }
  std::fprintf(stderr, "fuzz: %s as %s (rep %lld) answered %s: %s%s\n", path.c_str(),
               call.role.empty() ? "nobody" : call.role.c_str(),
               static_cast<long long>(call.rep_id),
               common::StatusCodeName(status.error_code()).c_str(), status.error_message().c_str(),
               reply_ok ? "" : " (reply does not parse)");
  for (const std::string& m : call.messages) {
    std::fprintf(stderr, "fuzz: request bytes: %s\n", absl::CHexEscape(m).c_str());
  }
  std::abort();
}

}  // namespace funnel::fuzz
