#include "common/feed/feed_hub.h"

#include <deque>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/feed/resume_token.h"
#include "common/log.h"
#include "common/status.h"
#include "common/time_util.h"

namespace funnel::feed {
namespace {

constexpr int kMaxKinds = 32;
constexpr size_t kMaxKindBytes = 60;
constexpr size_t kMaxTokenBytes = 200;
constexpr size_t kMaxEntityIdBytes = 64;
// Events numbered per sequencer transaction, and dropped per prune transaction.
constexpr int kSequenceBatch = 1000;
constexpr int kPruneBatch = 5000;
// How long a watcher ended as too slow has to read its end before it is cancelled.
constexpr absl::Duration kCancelAfter = absl::Seconds(30);
// Without a local commit, the hub still numbers events this often (a replica that
// died before numbering its own).
constexpr absl::Duration kSequenceSafetyNet = absl::Seconds(1);

}  // namespace

// One WatchEvents call. Shared between gRPC (until OnDone), the hub's set and the
// work it posts, so whichever lets go last deletes it. gRPC may run a reaction
// inline from StartWrite or Finish (OnDone among them), so those are called with
// no lock held: the methods decide under the lock and act after it.
class FeedHub::Watcher final : public grpc::ServerWriteReactor<v1::ChangeEvent> {
 public:
  Watcher(FeedHub* hub, grpc::CallbackServerContext* context, const v1::WatchEventsRequest& request)
      : hub_(hub),
        context_(context),
        request_(request),
        kinds_(request.kinds().begin(), request.kinds().end()) {
    filter_.entity_type = request.entity_type();
    filter_.entity_id = request.entity_id();
  }

  // Before gRPC has the reactor: starts the watch, or refuses it.
  void Begin(std::shared_ptr<Watcher> self, const absl::Status& refusal) {
    self_ = self;
    if (!refusal.ok()) {
      finished_ = true;
      Finish(common::ToGrpcStatus(refusal));
      return;
    }
    hub_->workers_.Post([self] { self->Open(); });
  }

  void OnWriteDone(bool ok) override {
    Act act;
    {
      absl::MutexLock lock(&mu_);
      act.keep = self_;
      writing_ = false;
      if (!ok || finished_) return;
      if (!page_.empty()) {
        TakeNextLocked();
        act.write = true;
      } else {
        FillLocked();
      }
    }
    Perform(act);
  }

  void OnCancel() override { End(absl::CancelledError("the watcher went away")); }

  void OnDone() override {
    std::shared_ptr<Watcher> release;
    {
      absl::MutexLock lock(&mu_);
      release = std::move(self_);
    }
    hub_->Forget(this);
  }

  // The hub saw the feed grow.
  void Poke() {
    absl::MutexLock lock(&mu_);
    if (opened_ && !writing_ && page_.empty()) FillLocked();
  }

  // A watcher whose write has not completed for the stall timeout is ended; one
  // that does not take even the end within kCancelAfter more is cancelled (it
  // then learns nothing, but holds nothing either).
  void CheckStall(absl::Time now, absl::Duration timeout) {
    Act act;
    {
      absl::MutexLock lock(&mu_);
      if (!writing_) return;
      if (now - write_since_ < (finished_ ? std::max(timeout, kCancelAfter) : timeout)) return;
      if (!finished_) {
        act.end = EndLocked(common::WithReason(
            absl::ResourceExhaustedError(absl::StrCat(
                "the watcher took no event for ", absl::FormatDuration(timeout),
                "; its stream was ended (watch again with the resume token to go on)")),
            errors::v1::WATCHER_TOO_SLOW));
        write_since_ = now;
      } else if (!cancelled_) {
        cancelled_ = true;
        act.cancel = true;
      }
    }
    Perform(act);
  }

  void End(const absl::Status& status) {
    Act act;
    {
      absl::MutexLock lock(&mu_);
      act.end = EndLocked(status);
    }
    Perform(act);
  }

 private:
  struct Ending {
    grpc::Status status;
    std::string token;  // empty before the watch knew where it starts
  };
  // What to do once the lock is released.
  struct Act {
    std::shared_ptr<Watcher> keep;  // alive through an inline OnDone
    bool write = false;
    bool cancel = false;
    std::optional<Ending> end;
  };

  void Perform(const Act& act) {
    if (act.end) {
      if (!act.end->token.empty())
        context_->AddTrailingMetadata(kResumeTokenTrailer, act.end->token);
      Finish(act.end->status);
    } else if (act.write) {
      StartWrite(&current_);
    }
    if (act.cancel) context_->TryCancel();
  }

  // On a worker: where the watch starts.
  void Open() {
    absl::StatusOr<FeedBounds> bounds = hub_->log_.Bounds();
    absl::Status refusal = bounds.status();
    int64_t start = 0;
    if (bounds.ok()) {
      start = request_.from_oldest() ? bounds->pruned_through : bounds->head;
      if (!request_.resume_token().empty()) {
        absl::StatusOr<int64_t> seq =
            DecodeResumeToken(hub_->options_.name, request_.resume_token());
        refusal = seq.status();
        if (seq.ok() && *seq < bounds->pruned_through) {
          refusal = Expired();
        } else if (seq.ok() && *seq > bounds->head) {
          refusal = absl::InvalidArgumentError(
              "resume_token: ahead of this feed's newest event (a token of another database?)");
        } else if (seq.ok()) {
          start = *seq;
        }
      }
    }
    Act act;
    const std::string start_token = EncodeResumeToken(hub_->options_.name, start);
    bool announce = false;
    {
      absl::MutexLock lock(&mu_);
      if (!refusal.ok()) {
        act.end = EndLocked(refusal);
      } else if (!finished_) {
        position_ = start;
        sent_token_ = start_token;
        known_head_ = bounds->head;
        initial_pending_ = announce = true;
      }
    }
    if (!announce) {
      Perform(act);
      return;
    }
    // The watcher learns where it starts (and that events from then on will come)
    // before the first event: a watch "from now" has a now.
    context_->AddInitialMetadata(kResumeTokenTrailer, start_token);
    StartSendInitialMetadata();
    {
      absl::MutexLock lock(&mu_);
      initial_pending_ = false;
      act.keep = self_;
      act.end = std::move(deferred_end_);
      if (!act.end) {
        opened_ = true;
        FillLocked();
      }
    }
    Perform(act);
  }

  absl::Status Expired() const {
    return common::WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            "resume_token: the events after it are no longer kept (the ", hub_->options_.name,
            " feed keeps ", absl::FormatDuration(hub_->options_.retention),
            "); read the current state again and watch from now")),
        errors::v1::RESUME_TOKEN_EXPIRED);
  }

  // Posts a Fill unless one is under way.
  void FillLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (filling_ || finished_ || self_ == nullptr) return;
    filling_ = true;
    hub_->workers_.Post([self = self_] { self->Fill(); });
  }

  // On a worker: reads pages until one holds a matching event (or the head is
  // reached), queues them and writes the first.
  void Fill() {
    while (true) {
      int64_t after = 0;
      int64_t head = 0;
      {
        absl::MutexLock lock(&mu_);
        known_head_ = std::max(known_head_, hub_->head_.load());
        if (finished_ || position_ >= known_head_) {
          filling_ = false;
          return;
        }
        after = position_;
        head = known_head_;
      }
      const int limit = hub_->options_.page_size;
      absl::StatusOr<FeedPage> page = hub_->log_.ReadAfter(after, filter_, limit);
      Act act;
      bool done = true;
      {
        absl::MutexLock lock(&mu_);
        act.keep = self_;
        if (!page.ok() || page->pruned_through > after) {
          // A watcher so far behind that retention dropped what it had not read yet
          // is told so, never moved past it.
          filling_ = false;
          act.end = EndLocked(page.ok() ? Expired() : page.status());
        } else {
          const std::vector<FeedRow>& rows = page->rows;
          for (const FeedRow& row : rows) {
            position_ = row.seq;
            if (!kinds_.empty() && !kinds_.contains(row.entry.kind)) continue;
            page_.push_back(ToEvent(row));
          }
          // Everything up to the head read before the query was numbered and
          // committed then, so a short page means nothing else matches up to it.
          if (static_cast<int>(rows.size()) < limit) position_ = std::max(position_, head);
          if (!page_.empty()) {
            filling_ = false;
            if (!writing_ && !finished_) {
              TakeNextLocked();
              act.write = true;
            }
          } else {
            done = false;  // a page of events the filter passed over: read on
          }
        }
      }
      if (done) {
        Perform(act);
        return;
      }
    }
  }

  v1::ChangeEvent ToEvent(const FeedRow& row) const {
    v1::ChangeEvent event;
    event.set_resume_token(EncodeResumeToken(hub_->options_.name, row.seq));
    event.set_kind(row.entry.kind);
    event.set_entity_type(row.entry.entity_type);
    event.set_entity_id(row.entry.entity_id);
    event.set_lead_id(row.entry.lead_id);
    *event.mutable_occurred_at() = common::ToProtoTime(row.entry.occurred_at);
    event.set_actor(row.entry.actor);
    event.set_detail(row.entry.detail);
    return event;
  }

  // Takes the next queued event as the one to write.
  void TakeNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    current_ = std::move(page_.front());
    page_.pop_front();
    sent_token_ = current_.resume_token();
    writing_ = true;
    write_since_ = absl::Now();
  }

  // The end to send, once, with where the watcher stands: the last event written,
  // which the trailers follow.
  std::optional<Ending> EndLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return std::nullopt;
    finished_ = true;
    page_.clear();
    Ending ending{common::ToGrpcStatus(status), sent_token_};
    if (initial_pending_) {  // Open finishes once the initial metadata is on its way
      deferred_end_ = std::move(ending);
      return std::nullopt;
    }
    return ending;
  }

  FeedHub* const hub_;
  grpc::CallbackServerContext* const context_;
  const v1::WatchEventsRequest request_;
  const absl::flat_hash_set<std::string> kinds_;
  FeedFilter filter_;

  absl::Mutex mu_;
  std::shared_ptr<Watcher> self_ ABSL_GUARDED_BY(mu_);  // gRPC's hold, until OnDone
  bool opened_ ABSL_GUARDED_BY(mu_) = false;
  bool initial_pending_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<Ending> deferred_end_ ABSL_GUARDED_BY(mu_);
  bool filling_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  int64_t position_ ABSL_GUARDED_BY(mu_) = 0;  // every event up to it is queued or skipped
  int64_t known_head_ ABSL_GUARDED_BY(mu_) = 0;
  std::string sent_token_ ABSL_GUARDED_BY(mu_);  // of the last event written
  std::deque<v1::ChangeEvent> page_ ABSL_GUARDED_BY(mu_);
  v1::ChangeEvent current_;  // owned by the write in flight while writing_
  absl::Time write_since_ ABSL_GUARDED_BY(mu_);
};

FeedHub::FeedHub(common::ConnectionPool* pool, FeedOptions options)
    : log_(pool), options_(std::move(options)), workers_(options_.workers) {}

FeedHub::~FeedHub() { Stop(); }

void FeedHub::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void FeedHub::Stop() {
  std::set<std::shared_ptr<Watcher>> watchers;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    watchers = watchers_;
  }
  for (const auto& w : watchers) {
    w->End(absl::UnavailableError(absl::StrCat(
        "the ", options_.name, " service is stopping; watch again with the resume token")));
  }
  if (thread_.joinable()) thread_.join();
}

void FeedHub::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

absl::Status FeedHub::Validate(const v1::WatchEventsRequest& request) const {
  if (request.resume_token().size() > kMaxTokenBytes) {
    return absl::InvalidArgumentError("resume_token: too long to be a token");
  }
  if (!request.resume_token().empty() && request.from_oldest()) {
    return absl::InvalidArgumentError("from_oldest: not with a resume_token (it says where)");
  }
  if (request.kinds_size() > kMaxKinds) {
    return absl::InvalidArgumentError(absl::StrCat("kinds: at most ", kMaxKinds));
  }
  for (const std::string& kind : request.kinds()) {
    if (kind.empty() || kind.size() > kMaxKindBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("kinds: each 1 to ", kMaxKindBytes, " bytes, like \"lead.qualified\""));
    }
  }
  if (!request.entity_type().empty() &&
      std::find(options_.entity_types.begin(), options_.entity_types.end(),
                request.entity_type()) == options_.entity_types.end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "entity_type: one of ", absl::StrJoin(options_.entity_types, ", "), " (or empty)"));
  }
  if (request.entity_id().size() > kMaxEntityIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("entity_id: at most ", kMaxEntityIdBytes, " bytes"));
  }
  if (!request.entity_id().empty() && request.entity_type().empty()) {
    return absl::InvalidArgumentError("entity_type: required with entity_id");
  }
  return absl::OkStatus();
}

grpc::ServerWriteReactor<v1::ChangeEvent>* ServeWatch(const absl::StatusOr<FeedHub*>& hub,
                                                      grpc::CallbackServerContext* context,
                                                      const v1::WatchEventsRequest& request) {
  class Refused final : public grpc::ServerWriteReactor<v1::ChangeEvent> {
   public:
    explicit Refused(const absl::Status& status) { Finish(common::ToGrpcStatus(status)); }
    void OnDone() override { delete this; }
  };
  if (!hub.ok()) return new Refused(hub.status());
  if (*hub == nullptr) return new Refused(absl::UnimplementedError("no change feed here"));
  return (*hub)->Watch(context, request);
}

grpc::ServerWriteReactor<v1::ChangeEvent>* FeedHub::Watch(grpc::CallbackServerContext* context,
                                                          const v1::WatchEventsRequest& request) {
  auto watcher = std::make_shared<Watcher>(this, context, request);
  absl::Status status = Validate(request);
  if (status.ok()) {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      status = absl::UnavailableError(absl::StrCat("the ", options_.name, " service is stopping"));
    } else {
      watchers_.insert(watcher);
    }
  }
  watcher->Begin(watcher, status);
  return watcher.get();
}

void FeedHub::Forget(Watcher* watcher) {
  absl::MutexLock lock(&mu_);
  for (auto it = watchers_.begin(); it != watchers_.end(); ++it) {
    if (it->get() == watcher) {
      watchers_.erase(it);
      return;
    }
  }
}

void FeedHub::Loop() {
  absl::Time last_sequenced = absl::InfinitePast();
  absl::Time last_pruned = absl::InfinitePast();
  bool failing = false;
  const absl::Duration prune_every =
      std::min(absl::Minutes(1), std::max(absl::Milliseconds(100), options_.retention / 10));
  while (true) {
    bool woken = false;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return woken_ || stopping_; };
      mu_.AwaitWithTimeout(absl::Condition(&ready), options_.poll_interval);
      if (stopping_) return;
      woken = woken_;
      woken_ = false;
    }
    const absl::Time now = absl::Now();
    absl::Status status;
    if (woken || now - last_sequenced >= kSequenceSafetyNet) {
      last_sequenced = now;
      absl::StatusOr<int> numbered;
      do {
        numbered = log_.Sequence(kSequenceBatch);
      } while (numbered.ok() && *numbered == kSequenceBatch);
      status.Update(numbered.status());
    }
    if (now - last_pruned >= prune_every) {
      last_pruned = now;
      absl::StatusOr<int> dropped;
      do {
        dropped = log_.Prune(now - options_.retention, kPruneBatch);
      } while (dropped.ok() && *dropped == kPruneBatch);
      status.Update(dropped.status());
    }
    std::vector<std::shared_ptr<Watcher>> watchers;
    {
      absl::MutexLock lock(&mu_);
      watchers.assign(watchers_.begin(), watchers_.end());
    }
    // Only watchers need the head (one opening reads its own).
    absl::StatusOr<FeedBounds> bounds = FeedBounds{};
    if (!watchers.empty()) {
      bounds = log_.Bounds();
      status.Update(bounds.status());
    }
    if (status.ok() == failing) {
      failing = !status.ok();
      if (failing) {
        common::LogWarning("change feed: cannot number or read events",
                           {{"feed", options_.name}, {"error", status.ToString()}});
      } else {
        common::LogInfo("change feed: working again", {{"feed", options_.name}});
      }
    }
    if (bounds.ok() && bounds->head > head_.load()) {
      head_.store(bounds->head);
      for (const auto& w : watchers) w->Poke();
    }
    for (const auto& w : watchers) w->CheckStall(now, options_.stall_timeout);
  }
}

}  // namespace funnel::feed
