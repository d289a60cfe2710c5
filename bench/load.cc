#include "bench/load.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "bench/proc_stats.h"
#include "common/status.h"

namespace funnel::bench {
namespace {

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One run of RunLoad: the schedule, the calls in flight and what they measured.
class LoadRun final {
 public:
  LoadRun(const LoadOptions& options, const RequestFactory& request)
      : options_(options), request_(request) {
    for (int i = 0; i < std::max(1, options.channels); ++i) {
      grpc::ChannelArguments args;
      // Separate connections: channels with equal arguments would share one.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt("funnel.bench.channel", i);
      auto channel =
          grpc::CreateCustomChannel(options.target, grpc::InsecureChannelCredentials(), args);
      channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10));
      stubs_.push_back(std::make_unique<grpc::GenericStub>(channel));
    }
  }

  LoadResult Run() {
    const int64_t start = NowNanos();
    measure_from_ = start + absl::ToInt64Nanoseconds(options_.warmup);
    measure_until_ = measure_from_ + absl::ToInt64Nanoseconds(options_.duration);
    std::map<std::string, double> cpu_before;
    bool measuring = false;
    auto tick = [&](int64_t now) {
      if (!measuring && now >= measure_from_) {
        measuring = true;
        cpu_before = CpuSnapshot(options_.watch);
        if (options_.on_window_open) options_.on_window_open();
      }
      Progress(now, start);
    };

    if (options_.rate > 0) {
      const double interval = 1e9 / options_.rate;
      for (int64_t i = 0;; ++i) {
        const int64_t intended = start + static_cast<int64_t>(static_cast<double>(i) * interval);
        if (intended >= measure_until_) break;
        int64_t now = NowNanos();
        while (now < intended) {
          // Sleep in short steps so the progress line and CPU snapshot stay on time.
          std::this_thread::sleep_for(
              std::chrono::nanoseconds(std::min<int64_t>(intended - now, 50'000'000)));
          now = NowNanos();
          tick(now);
        }
        if (in_flight_.load() >= options_.max_in_flight) {
          if (intended >= measure_from_) CountError("CLIENT_BACKLOG");
          continue;
        }
        Start(intended);
      }
    } else {
      for (int i = 0; i < options_.concurrency; ++i) Start(NowNanos());
    }
    const int64_t give_up =
        measure_until_ + absl::ToInt64Nanoseconds(options_.deadline) + 5'000'000'000;
    std::map<std::string, double> cpu_after;
    bool ended = false;
    for (;;) {
      const int64_t now = NowNanos();
      tick(now);
      if (!ended && now >= measure_until_) {
        ended = true;
        cpu_after = CpuSnapshot(options_.watch);
        if (options_.on_window_close) options_.on_window_close();
      }
      if (ended && in_flight_.load() == 0) break;
      if (now > give_up) break;  // Counted below: calls that never ended.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (progress_shown_) std::fprintf(stderr, "\n");

    LoadResult result;
    absl::MutexLock lock(&mu_);
    result.ok = ok_.load();
    result.errors = errors_;
    if (in_flight_.load() > 0) result.errors["CLIENT_STUCK"] += in_flight_.load();
    result.seconds = absl::ToDoubleSeconds(options_.duration);
    result.cpu_seconds = CpuSpent(cpu_before, cpu_after);
    result.latency->Merge(latency_);
    return result;
  }

  ~LoadRun() {
    // Calls still in flight after give-up reference this object; cancel and wait.
    while (in_flight_.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

 private:
  struct Call {
    grpc::ClientContext context;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
    int64_t intended_start = 0;
  };

  void Start(int64_t intended_start) {
    const uint64_t seq = next_seq_.fetch_add(1);
    auto* call = new Call;
    call->intended_start = intended_start;
    const std::string bytes = request_(seq);
    grpc::Slice slice(bytes);
    call->request = grpc::ByteBuffer(&slice, 1);
    for (const auto& [key, value] : options_.metadata) call->context.AddMetadata(key, value);
    call->context.set_deadline(std::chrono::system_clock::now() +
                               absl::ToChronoNanoseconds(options_.deadline));
    in_flight_.fetch_add(1);
    stubs_[seq % stubs_.size()]->UnaryCall(
        &call->context, options_.method, grpc::StubOptions(), &call->request, &call->response,
        [this, call](grpc::Status status) { Done(call, status); });
  }

  void Done(Call* call, const grpc::Status& status) {
    const int64_t now = NowNanos();
    if (now >= measure_from_ && now < measure_until_) {
      if (status.ok()) {
        latency_.Record(now - call->intended_start);
        ok_.fetch_add(1);
      } else {
        CountError(common::StatusCodeName(status.error_code()));
      }
    }
    delete call;
    // Closed loop: the next call starts as this one ends.
    if (options_.rate <= 0 && now < measure_until_) Start(now);
    in_flight_.fetch_sub(1);
  }

  void CountError(const std::string& code) {
    absl::MutexLock lock(&mu_);
    ++errors_[code];
  }

  void Progress(int64_t now, int64_t start) {
    if (now - last_progress_ < 1'000'000'000) return;
    last_progress_ = now;
    const int64_t ok = ok_.load();
    int64_t errors = 0;
    {
      absl::MutexLock lock(&mu_);
      for (const auto& [code, n] : errors_) errors += n;
    }
    const bool tty = isatty(2);
    std::fprintf(stderr, "%s[%s] %5.1fs %s  ok %lld  errors %lld  in flight %d%s", tty ? "\r" : "",
                 options_.label.c_str(), static_cast<double>(now - start) / 1e9,
                 now < measure_from_ ? "warm-up  " : "measuring", static_cast<long long>(ok),
                 static_cast<long long>(errors), in_flight_.load(), tty ? "   " : "\n");
    progress_shown_ = tty;
  }

  const LoadOptions& options_;
  const RequestFactory& request_;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  int64_t measure_from_ = 0;
  int64_t measure_until_ = 0;
  int64_t last_progress_ = 0;
  bool progress_shown_ = false;
  std::atomic<uint64_t> next_seq_{0};
  std::atomic<int> in_flight_{0};
  LatencyHistogram latency_;
  absl::Mutex mu_;
  std::atomic<int64_t> ok_{0};
  std::map<std::string, int64_t> errors_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

int64_t LoadResult::error_count() const {
  int64_t n = 0;
  for (const auto& [code, count] : errors) n += count;
  return n;
}

LoadResult RunLoad(const LoadOptions& options, const RequestFactory& request) {
  LoadRun run(options, request);
  return run.Run();
}

}  // namespace funnel::bench
