// The request log's promise inside a service: every line written while a blocking
// handler serves a call carries the call's request id, and the id is gone once
// the call is.

#include <fcntl.h>
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/generic_call.h"
#include "common/log.h"
#include "common/request_id.h"
#include "common/server/service_host.h"
#include "funnel/marketing/v1/marketing_service.grpc.pb.h"
#include "tests/testing/harness.h"

namespace funnel::common {
namespace {

using ::testing::HasSubstr;

// A blocking service whose handler writes a log line of its own.
class LoggingService final : public marketing::v1::MarketingService::Service {
 public:
  grpc::Status GetRelayStats(grpc::ServerContext*, const marketing::v1::GetRelayStatsRequest*,
                             handoff::v1::RelayStats*) override {
    LogWarning("inside the handler");
    seen_ = CurrentRequestId();
    return grpc::Status::OK;
  }
  std::string seen_;
};

// Everything written to stderr while it lives.
class CapturedStderr final {
 public:
  CapturedStderr() : path_(dir_.path() + "/stderr.log") {
    saved_ = dup(STDERR_FILENO);
    const int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, STDERR_FILENO);
    close(fd);
  }
  ~CapturedStderr() { Restore(); }
  // Stops capturing; returns the lines written.
  std::vector<std::string> Lines() {
    Restore();
    std::ifstream in(path_);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

 private:
  void Restore() {
    if (saved_ < 0) return;
    fflush(stderr);
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    saved_ = -1;
  }
  testing::TempDir dir_;
  std::string path_;
  int saved_ = -1;
};

TEST(RequestLogTest, LinesWrittenWhileServingACallCarryItsRequestId) {
  CapturedStderr captured;
  LoggingService service;
  {
    ServiceHost host({.name = "log-test", .port = 0});
    host.AddService(&service, {"funnel.marketing.v1.MarketingService"});
    ASSERT_TRUE(host.Start().ok());
    auto stub = marketing::v1::MarketingService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", host.port()), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-request-id", "log-test-1");
    handoff::v1::RelayStats stats;
    const grpc::Status status = stub->GetRelayStats(&ctx, {}, &stats);
    host.Shutdown();
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  std::string inside;
  for (const std::string& line : captured.Lines()) {
    if (line.find("inside the handler") != std::string::npos) inside = line;
  }
  EXPECT_THAT(inside, HasSubstr("\"request_id\":\"log-test-1\""));
  EXPECT_EQ(service.seen_, "log-test-1");
}

// A request whose strings are not UTF-8 made protobuf print a line of its own
// ("[libprotobuf ERROR ...]") into the JSON log; every caller could add such lines
// at will. Protobuf's lines go through the JSON logger (found by the fuzz targets).
TEST(RequestLogTest, EveryLineIsJsonEvenWhenProtobufComplains) {
  CapturedStderr captured;
  LoggingService service;
  {
    ServiceHost host({.name = "log-test", .port = 0});
    host.AddService(&service, {"funnel.marketing.v1.MarketingService"});
    ASSERT_TRUE(host.Start().ok());
    grpc::GenericStub stub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", host.port()),
                                               grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    // ListLeadsRequest.email (field 8, a string) holding bytes that are not UTF-8.
    const std::string bad_utf8 = "\x42\x02\xff\xfe";
    const grpc::Status status = BlockingRawCall(
        stub, &ctx, "/funnel.marketing.v1.MarketingService/ListLeads", bad_utf8, nullptr);
    host.Shutdown();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  const std::vector<std::string> lines = captured.Lines();
  ASSERT_FALSE(lines.empty());
  for (const std::string& line : lines) EXPECT_EQ(line.substr(0, 2), "{\"") << line;
}

}  // namespace
}  // namespace funnel::common
