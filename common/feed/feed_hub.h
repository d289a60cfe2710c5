#pragma once

// A service's change feed at run time: the sequencer thread that numbers
// committed events (feed_log.h), and the watchers that stream them
// (WatchEvents).
//
// A watcher holds one page of events at most and writes one at a time, taking the
// next only when gRPC has taken the last: a consumer that reads slowly slows its
// own stream, never grows the server's memory, and the database is the buffer.
// One that takes nothing for `stall_timeout` is ended with RESOURCE_EXHAUSTED
// (WATCHER_TOO_SLOW) and the x-funnel-resume-token trailer; since the trailers
// follow every event written before them, the token there is exactly where the
// watcher stands once it has read the end of the stream. Database reads run on the
// hub's own workers, never on gRPC's callback threads.

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/feed/feed_log.h"
#include "common/mysql/migrations.h"
#include "common/mysql/pool.h"
#include "common/work_queue.h"
#include "funnel/feed/v1/feed.pb.h"

namespace funnel::feed {

inline constexpr char kResumeTokenTrailer[] = "x-funnel-resume-token";

struct FeedOptions {
  std::string name;                       // "marketing": in tokens and logs
  std::vector<std::string> entity_types;  // what WatchEventsRequest.entity_type may name
  // How often the hub looks at the feed when no local commit woke it (events other
  // replicas numbered), and numbers what nobody numbered (a replica that died).
  absl::Duration poll_interval = absl::Milliseconds(200);
  absl::Duration retention = absl::Hours(7 * 24);
  absl::Duration stall_timeout = absl::Seconds(30);
  int page_size = 100;
  int workers = 2;
};

class FeedHub final {
 public:
  FeedHub(common::ConnectionPool* pool, FeedOptions options);
  ~FeedHub();
  FeedHub(const FeedHub&) = delete;
  FeedHub& operator=(const FeedHub&) = delete;

  // Starts the sequencer thread.
  void Start();
  // Ends every watch with UNAVAILABLE and its resume token, and stops the thread.
  // Idempotent.
  void Stop();
  // A local commit appended events: number them now.
  void Wake();

  // The reactor serving one admitted WatchEvents call; it finishes at once with
  // INVALID_ARGUMENT naming a bad field.
  grpc::ServerWriteReactor<v1::ChangeEvent>* Watch(grpc::CallbackServerContext* context,
                                                   const v1::WatchEventsRequest& request);

 private:
  class Watcher;
  friend class Watcher;

  absl::Status Validate(const v1::WatchEventsRequest& request) const;
  void Loop();
  void Forget(Watcher* watcher);

  FeedLog log_;
  const FeedOptions options_;
  common::WorkQueue workers_;
  std::atomic<int64_t> head_{0};
  std::thread thread_;

  mutable absl::Mutex mu_;
  std::set<std::shared_ptr<Watcher>> watchers_ ABSL_GUARDED_BY(mu_);
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

// A service's WatchEvents: served by `hub` once the call was admitted, else
// answered with why not (UNIMPLEMENTED for a service built without a feed).
grpc::ServerWriteReactor<v1::ChangeEvent>* ServeWatch(const absl::StatusOr<FeedHub*>& hub,
                                                      grpc::CallbackServerContext* context,
                                                      const v1::WatchEventsRequest& request);

// The feed's schema (migrations/, embedded at build time), its own track
// (feed_schema_migrations) in each department's database.
const std::vector<common::Migration>& Migrations();

}  // namespace funnel::feed
