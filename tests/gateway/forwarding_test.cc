// The gateway's forwarding seen from a backend of the test's own, behind the real
// gateway binary: what a service receives (the caller's deadline, only the
// allow-listed metadata).

#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/server/service_host.h"
#include "tests/testing/stack.h"

namespace funnel {
namespace {

using ::funnel::testing::CallRaw;

// Answers every method with an empty message, recording the deadline and the
// metadata of the last call.
class RecordingBackend final : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    {
      absl::MutexLock lock(&mu_);
      deadline_ = absl::FromChrono(ctx->deadline());
      metadata_.clear();
      for (const auto& [k, v] : ctx->client_metadata()) {
        metadata_.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
      }
    }
    class Reply final : public grpc::ServerGenericBidiReactor {
     public:
      Reply() {
        grpc::Slice empty("");
        reply_ = grpc::ByteBuffer(&empty, 1);  // an empty message, not "no message"
        StartRead(&request_);
      }
      void OnReadDone(bool) override { StartWriteAndFinish(&reply_, {}, grpc::Status::OK); }
      void OnDone() override { delete this; }

     private:
      grpc::ByteBuffer request_;
      grpc::ByteBuffer reply_;
    };
    return new Reply;
  }
  absl::Time deadline() {
    absl::MutexLock lock(&mu_);
    return deadline_;
  }
  std::multimap<std::string, std::string> metadata() {
    absl::MutexLock lock(&mu_);
    return metadata_;
  }

 private:
  absl::Mutex mu_;
  absl::Time deadline_;
  std::multimap<std::string, std::string> metadata_;
};

class ForwardingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host_ = std::make_unique<common::ServiceHost>(common::ServiceHostOptions{.name = "recording"});
    host_->AddGenericService(&backend_, {"funnel.marketing.v1.MarketingService"});
    ASSERT_TRUE(host_->Start().ok());
    const std::string keys = dir_.path() + "/keys.txt";
    key_ = testing::MakeKey(keys, "MARKETING", "marketer", 0);
    const int port = testing::FreePort();
    gateway_ = std::make_unique<testing::ChildProcess>(
        "gateway",
        std::vector<std::string>{testing::BinaryPath("gateway"), absl::StrCat("--port=", port),
                                 absl::StrCat("--marketing_address=127.0.0.1:", host_->port()),
                                 absl::StrCat("--sales_address=127.0.0.1:", testing::FreePort()),
                                 "--keys_file=" + keys, "--health_interval=100ms"},
        std::map<std::string, std::string>{{"FUNNEL_INTERNAL_SECRET", "s3cret"}});
    ASSERT_TRUE(testing::WaitForHealth(port, "funnel.marketing.v1.MarketingService",
                                       testing::HealthCheckResponse::SERVING));
    channel_ =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  }

  grpc::Status Call(absl::Duration timeout,
                    const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
    grpc::GenericStub stub(channel_);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    ctx.AddMetadata("authorization", "Bearer " + key_);
    for (const auto& [k, v] : metadata) ctx.AddMetadata(k, v);
    grpc::Slice empty("");
    grpc::ByteBuffer request(&empty, 1), reply;
    grpc::Status status;
    absl::Notification done;
    stub.UnaryCall(&ctx, "/funnel.marketing.v1.MarketingService/GetRelayStats", {}, &request,
                   &reply, [&](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
    done.WaitForNotification();
    return status;
  }

  testing::TempDir dir_;
  RecordingBackend backend_;
  std::unique_ptr<common::ServiceHost> host_;
  std::unique_ptr<testing::ChildProcess> gateway_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string key_;
};

TEST_F(ForwardingTest, PassesTheCallersDeadlineOn) {
  const absl::Time before = absl::Now();
  ASSERT_TRUE(Call(absl::Seconds(7)).ok());
  // The service's deadline is the caller's (grpc-timeout rounds up a little), not
  // gRPC's "never".
  EXPECT_GT(backend_.deadline(), before + absl::Seconds(6));
  EXPECT_LE(backend_.deadline(), absl::Now() + absl::Seconds(7) + absl::Milliseconds(200));
}

TEST_F(ForwardingTest, OnlyTheAllowListReachesTheService) {
  ASSERT_TRUE(Call(absl::Seconds(5), {{"x-request-id", "fwd-1"},
                                      {"x-funnel-principal-id", "mallory"},
                                      {"x-custom", "stays at the door"}})
                  .ok());
  std::multimap<std::string, std::string> md = backend_.metadata();
  auto value = [&](const std::string& key) {
    auto it = md.find(key);
    return it == md.end() ? std::string("<none>") : it->second;
  };
  EXPECT_EQ(value("x-request-id"), "fwd-1");
  EXPECT_EQ(value("x-funnel-principal-id"), "marketer");
  EXPECT_EQ(md.count("x-funnel-principal-id"), 1u);
  EXPECT_EQ(value("x-funnel-role"), "MARKETING");
  EXPECT_EQ(value("x-funnel-internal"), "s3cret");
  EXPECT_EQ(value("x-custom"), "<none>");
  EXPECT_EQ(value("authorization"), "<none>");
}

}  // namespace
}  // namespace funnel
