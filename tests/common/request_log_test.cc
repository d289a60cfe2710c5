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

TEST(RequestLogTest, LinesWrittenWhileServingACallCarryItsRequestId) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/stderr.log";
  const int saved = dup(STDERR_FILENO);
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  dup2(fd, STDERR_FILENO);
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
    dup2(saved, STDERR_FILENO);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  close(fd);
  close(saved);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string inside;
  for (std::string line; std::getline(text, line);) {
    if (line.find("inside the handler") != std::string::npos) inside = line;
  }
  EXPECT_THAT(inside, HasSubstr("\"request_id\":\"log-test-1\""));
  EXPECT_EQ(service.seen_, "log-test-1");
}

}  // namespace
}  // namespace funnel::common
