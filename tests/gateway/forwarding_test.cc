// The gateway's forwarding seen from a backend of the test's own, behind the real
// gateway binary: what a service receives (the caller's deadline, only the
// allow-listed metadata, the caller's cancellation), what comes back (trailers, a
// bounded status message), and that a caller who reads nothing holds the backend
// back instead of filling the gateway.

#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/limits.h"
#include "common/server/service_host.h"
#include "tests/testing/stack.h"

namespace funnel {
namespace {

using ::funnel::testing::CallRaw;

constexpr char kUnary[] = "/funnel.marketing.v1.MarketingService/GetRelayStats";
constexpr char kHang[] = "/funnel.marketing.v1.MarketingService/GetLead";
constexpr char kLongStatus[] = "/funnel.marketing.v1.MarketingService/ListLeads";
constexpr char kStream[] = "/funnel.marketing.v1.MarketingService/WatchEvents";
constexpr int kStreamMessages = 1600;
constexpr size_t kStreamMessageBytes = 64 << 10;

grpc::ByteBuffer Bytes(const std::string& s) {
  grpc::Slice slice(s);
  return grpc::ByteBuffer(&slice, 1);
}

// Writes kStreamMessages messages of kStreamMessageBytes (each starting with its
// index) as fast as flow control lets it, counting the writes that completed.
class StreamReply final : public grpc::ServerGenericBidiReactor {
 public:
  explicit StreamReply(std::atomic<int>* written) : written_(written) { Next(); }
  void OnWriteDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::CANCELLED);
    ++*written_;
    Next();
  }
  void OnDone() override { delete this; }

 private:
  void Next() {
    if (sent_ == kStreamMessages) return Finish(grpc::Status::OK);
    std::string body = absl::StrCat(sent_++, ":");
    body.resize(kStreamMessageBytes, 'm');
    message_ = Bytes(body);
    StartWrite(&message_);
  }
  std::atomic<int>* written_;
  int sent_ = 0;
  grpc::ByteBuffer message_;
};

// Never answers; notes when the call is cancelled.
class HangReply final : public grpc::ServerGenericBidiReactor {
 public:
  explicit HangReply(absl::Notification* cancelled) : cancelled_(cancelled) {
    StartRead(&request_);
  }
  void OnReadDone(bool) override {}
  void OnCancel() override {
    cancelled_->Notify();
    Finish(grpc::Status::CANCELLED);
  }
  void OnDone() override { delete this; }

 private:
  absl::Notification* cancelled_;
  grpc::ByteBuffer request_;
};

// Answers every method with an empty message, recording the deadline and the
// metadata of the last call; the methods above behave as they say.
class RecordingBackend final : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    if (ctx->method() == kStream) return new StreamReply(&written);
    if (ctx->method() == kHang) return new HangReply(&cancelled);
    if (ctx->method() == kLongStatus) {
      class LongStatus final : public grpc::ServerGenericBidiReactor {
       public:
        explicit LongStatus(grpc::GenericCallbackServerContext* ctx) {
          ctx->AddTrailingMetadata("x-backend-note", "kept");
          Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, std::string(3000, 'x')));
        }
        void OnDone() override { delete this; }
      };
      return new LongStatus(ctx);
    }
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
        reply_ = Bytes("");  // an empty message, not "no message"
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

  std::atomic<int> written{0};
  absl::Notification cancelled;

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
                    const std::vector<std::pair<std::string, std::string>>& metadata = {},
                    const char* method = kUnary, grpc::ClientContext* given = nullptr) {
    grpc::GenericStub stub(channel_);
    grpc::ClientContext own;
    grpc::ClientContext& ctx = given != nullptr ? *given : own;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    ctx.AddMetadata("authorization", "Bearer " + key_);
    for (const auto& [k, v] : metadata) ctx.AddMetadata(k, v);
    grpc::ByteBuffer request = Bytes(""), reply;
    grpc::Status status;
    absl::Notification done;
    stub.UnaryCall(&ctx, method, {}, &request, &reply, [&](grpc::Status s) {
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

TEST_F(ForwardingTest, ACallerCancellingCancelsTheBackendsCall) {
  grpc::ClientContext ctx;
  std::thread cancel([&] {
    absl::SleepFor(absl::Milliseconds(500));
    ctx.TryCancel();
  });
  EXPECT_EQ(Call(absl::Seconds(60), {}, kHang, &ctx).error_code(), grpc::StatusCode::CANCELLED);
  cancel.join();
  // Long before the 60 s deadline would have ended it at the backend.
  EXPECT_TRUE(backend_.cancelled.WaitForNotificationWithTimeout(absl::Seconds(5)));
}

TEST_F(ForwardingTest, TheBackendsStatusAndTrailersComeBackWithTheMessageBounded) {
  grpc::ClientContext ctx;
  const grpc::Status status = Call(absl::Seconds(5), {}, kLongStatus, &ctx);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_LE(status.error_message().size(), common::kMaxStatusMessageBytes);
  EXPECT_THAT(status.error_message(), ::testing::EndsWith("... (truncated)"));
  auto note = ctx.GetServerTrailingMetadata().find("x-backend-note");
  ASSERT_NE(note, ctx.GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(note->second.data(), note->second.size()), "kept");
}

// A caller that stops reading: the backend may run ahead by the flow-control
// windows in between, not by the whole stream (100 MiB here), and everything
// arrives in order once the caller reads again.
TEST_F(ForwardingTest, ACallerThatReadsNothingHoldsTheBackendBack) {
  class Reader final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
   public:
    void OnReadDone(bool ok) override {
      if (!ok) return;
      std::vector<grpc::Slice> slices;
      (void)message_.Dump(&slices);
      std::string body;
      for (const grpc::Slice& s : slices)
        body.append(reinterpret_cast<const char*>(s.begin()), s.size());
      if (body.size() != kStreamMessageBytes || !absl::StartsWith(body, absl::StrCat(read_, ":"))) {
        out_of_order_ = true;
      }
      ++read_;
      StartRead(&message_);
    }
    void OnDone(const grpc::Status& s) override {
      status_ = s;
      done_.Notify();
    }
    void Go() { StartRead(&message_); }
    grpc::ByteBuffer request_ = Bytes("");
    grpc::ByteBuffer message_;
    int read_ = 0;
    bool out_of_order_ = false;
    grpc::Status status_;
    absl::Notification done_;
  };
  grpc::GenericStub stub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  ctx.AddMetadata("authorization", "Bearer " + key_);
  Reader reader;
  stub.PrepareBidiStreamingCall(&ctx, kStream, {}, &reader);
  reader.StartWriteLast(&reader.request_, grpc::WriteOptions());
  reader.StartCall();
  absl::SleepFor(absl::Seconds(3));
  const int ahead = backend_.written.load();
  EXPECT_LT(ahead, kStreamMessages / 4) << "the backend wrote " << ahead << " of "
                                        << kStreamMessages << " messages to a caller reading none";
  reader.Go();
  ASSERT_TRUE(reader.done_.WaitForNotificationWithTimeout(absl::Seconds(50)));
  EXPECT_TRUE(reader.status_.ok()) << reader.status_.error_message();
  EXPECT_EQ(reader.read_, kStreamMessages);
  EXPECT_FALSE(reader.out_of_order_);
  std::printf("flow control: the backend ran %d messages (%d KiB) ahead\n", ahead,
              ahead * static_cast<int>(kStreamMessageBytes >> 10));
}

}  // namespace
}  // namespace funnel
